import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { GatewatchError } from '../../errors.js';
import { DETECTORS_DIR } from '../../paths.js';
import type { Severity } from '../../types.js';
import type { AnomalyConfig, ModelPrice } from './config.js';

// Anomaly thresholds are data: one YAML file per detector under
// detectors/anomaly/, validated against detectors/anomaly-rule.schema.json,
// then overridden by files in extra rule dirs and by the config.

export type IdentityKind = 'key' | 'user' | 'team' | 'ip';

export interface RuleParams {
  readonly baselineDays?: number;
  readonly zScore?: number;
  readonly peakFactor?: number;
  readonly minRatio?: number;
  readonly windowMinutes?: number;
  readonly rememberDays?: number;
  readonly maxMembers?: number;
  readonly ipv4Prefix?: number;
  readonly ipv6Prefix?: number;
  readonly distinctModels?: number;
  readonly notFound?: number;
  readonly newForMinutes?: number;
  readonly neighbourHours?: number;
  readonly minActiveWeeks?: number;
  readonly minRequests?: number;
}

export interface AnomalyRule {
  readonly id: string;
  readonly description: string;
  readonly severity: Severity;
  readonly enabled: boolean;
  readonly identities: readonly IdentityKind[];
  readonly cooldownMinutes: number;
  readonly warmup: { readonly minAgeHours: number; readonly minCount: number };
  readonly minVolume: number;
  readonly params: RuleParams;
  readonly runbook?: string;
  /** Where the rule came from (the last file or config that changed it), for error messages. */
  readonly source: string;
}

export interface PriceTable {
  readonly default: ModelPrice;
  readonly models: Readonly<Record<string, ModelPrice>>;
}

export const ANOMALY_RULES_DIR = join(DETECTORS_DIR, 'anomaly');
export const ANOMALY_RULE_SCHEMA_PATH = join(DETECTORS_DIR, 'anomaly-rule.schema.json');
const PRICES_FILE = 'prices.yaml';

interface Validators {
  rule: ValidateFunction;
  override: ValidateFunction;
  prices: ValidateFunction;
}
let validators: Validators | undefined;

function getValidators(): Validators {
  if (validators) return validators;
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
  ajv.addSchema(JSON.parse(readFileSync(ANOMALY_RULE_SCHEMA_PATH, 'utf8')) as object);
  const get = (def: string): ValidateFunction => {
    const v = ajv.getSchema(`gatewatch:anomaly-rule#/$defs/${def}`);
    if (!v) throw new Error(`anomaly-rule schema lacks $defs/${def}`);
    return v;
  };
  validators = { rule: get('rule'), override: get('override'), prices: get('prices') };
  return validators;
}

function problems(source: string, data: unknown, errors: readonly ErrorObject[] | null | undefined): string[] {
  const id = typeof data === 'object' && data !== null && typeof (data as { id?: unknown }).id === 'string' ? (data as { id: string }).id : '?';
  return (errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` "${String((e.params as { additionalProperty?: string }).additionalProperty)}"` : '';
    return `${source}: rule ${id}: ${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`;
  });
}

function readYaml(file: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new GatewatchError('GW_ERR_RULE_INVALID', `${file}: not valid YAML: ${(e as Error).message}`);
  }
}

function yamlFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .sort();
  } catch (e) {
    throw new GatewatchError('GW_ERR_CONFIG_READ', `cannot read anomaly rules directory ${dir}: ${(e as Error).message}`);
  }
}

function mergeRule(base: AnomalyRule, over: Record<string, unknown>, source: string): AnomalyRule {
  const o = over as Partial<AnomalyRule>;
  return {
    ...base,
    ...o,
    warmup: { ...base.warmup, ...(o.warmup ?? {}) },
    params: { ...base.params, ...(o.params ?? {}) },
    source,
  };
}

export interface LoadedRules {
  readonly rules: ReadonlyMap<string, AnomalyRule>;
  readonly prices: PriceTable;
}

/**
 * Loads the shipped rules and prices, then applies extra rule dirs and config
 * overrides. Collects every problem and throws one GW_ERR_RULE_INVALID.
 */
export function loadAnomalyRules(config: Pick<AnomalyConfig, 'overrides' | 'prices'>, extraDirs: readonly string[] = []): LoadedRules {
  const v = getValidators();
  const errors: string[] = [];
  const rules = new Map<string, AnomalyRule>();
  let prices: PriceTable = { default: { input: 0, output: 0 }, models: {} };

  const applyPrices = (file: string, base: boolean): void => {
    const data = readYaml(file);
    if (!v.prices(data)) {
      errors.push(...problems(file, { id: 'prices' }, v.prices.errors));
      return;
    }
    const p = data as PriceTable;
    prices = base ? p : { default: p.default, models: { ...prices.models, ...p.models } };
  };

  for (const name of yamlFiles(ANOMALY_RULES_DIR)) {
    const file = join(ANOMALY_RULES_DIR, name);
    if (name === PRICES_FILE) {
      applyPrices(file, true);
      continue;
    }
    const data = readYaml(file);
    if (!v.rule(data)) {
      errors.push(...problems(file, data, v.rule.errors));
      continue;
    }
    const rule = { ...(data as Omit<AnomalyRule, 'source'>), source: file };
    if (rules.has(rule.id)) errors.push(`${file}: rule ${rule.id}: /id: duplicate id (also in ${rules.get(rule.id)!.source})`);
    rules.set(rule.id, rule);
  }

  const override = (source: string, data: unknown): void => {
    if (!v.override(data)) {
      errors.push(...problems(source, data, v.override.errors));
      return;
    }
    const o = data as Record<string, unknown> & { id: string };
    const base = rules.get(o.id);
    if (!base) {
      errors.push(`${source}: rule ${o.id}: /id: no anomaly detector has this id (known: ${[...rules.keys()].join(', ')})`);
      return;
    }
    rules.set(o.id, mergeRule(base, o, source));
  };

  for (const dir of extraDirs) {
    for (const name of yamlFiles(dir)) {
      const file = join(dir, name);
      if (name === PRICES_FILE) applyPrices(file, false);
      else override(file, readYaml(file));
    }
  }
  for (const [id, over] of Object.entries(config.overrides)) override(`config anomaly.overrides.${id}`, { ...over, id });
  prices = { default: prices.default, models: { ...prices.models, ...config.prices } };

  if (errors.length > 0) throw new GatewatchError('GW_ERR_RULE_INVALID', 'invalid anomaly rules', errors);
  return { rules, prices };
}

/** A param the detector cannot work without; a missing one is a rule error naming file, id and field. */
export function requireParam(rule: AnomalyRule, name: keyof RuleParams): number {
  const value = rule.params[name];
  if (value === undefined) {
    throw new GatewatchError('GW_ERR_RULE_INVALID', `${rule.source}: rule ${rule.id}: /params/${name}: required by this detector`);
  }
  return value;
}
