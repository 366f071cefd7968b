import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { GatewatchError } from '../errors.js';
import { PROJECT_ROOT } from '../paths.js';
import type { Category, Severity } from '../types.js';

// The alerts section of the configuration. Its JSON Schema
// (config.schema.json, $id gatewatch:alerts-config) is the source of truth
// and holds every default; these types mirror it.

export const ALERTS_CONFIG_SCHEMA_PATH = join(PROJECT_ROOT, 'src', 'alerts', 'config.schema.json');

export interface SilenceSpec {
  readonly id?: string;
  /** Exact detector id or `prefix*`. */
  readonly detector?: string;
  /** Key fingerprint, user, team or client IP. */
  readonly identity?: string;
  /** Normalized request path prefix. */
  readonly route?: string;
  /** ISO 8601 expiry. */
  readonly until?: string;
  readonly comment?: string;
}

export interface SinkFilter {
  readonly minSeverity: Severity;
  /** Empty: every category. */
  readonly categories: readonly Category[];
  /** Exact ids or `prefix*`; empty: every detector. */
  readonly detectors: readonly string[];
}

export interface SlackRouteConfig extends SinkFilter {
  readonly name: string;
  readonly url: string;
}

export interface SlackConfig extends SinkFilter {
  readonly url: string | null;
  readonly routes: readonly SlackRouteConfig[];
  readonly digestThreshold: number;
  readonly digestMax: number;
  readonly ratePerMinute: number;
  readonly queueSize: number;
  readonly dashboardUrl: string | null;
}

export interface WebhookConfig extends SinkFilter {
  readonly url: string | null;
  readonly secret: string | null;
  readonly ratePerMinute: number;
  readonly queueSize: number;
  readonly concurrency: number;
}

export interface AlertsConfig {
  readonly dedupWindowMs: number;
  readonly groupWindowMs: number;
  readonly resolveAfterMs: number;
  readonly maxIncidents: number;
  readonly inhibition: { readonly windowMs: number; readonly source: readonly string[]; readonly target: readonly string[] };
  readonly silences: readonly SilenceSpec[];
  readonly runbookBaseUrl: string;
  readonly runbooks: Readonly<Record<string, string>>;
  readonly redisUrl: string | null;
  readonly redisTimeoutMs: number;
  readonly delivery: { readonly retryBaseMs: number; readonly retryMaxMs: number; readonly maxAgeMs: number; readonly timeoutMs: number };
  readonly sinks: {
    readonly stdout: { readonly enabled: boolean; readonly minSeverity: Severity };
    readonly slack: SlackConfig;
    readonly webhook: WebhookConfig;
    readonly otel: { readonly enabled: boolean; readonly minSeverity: Severity; readonly queueSize: number; readonly batchSize: number };
    readonly stream: { readonly ringSize: number; readonly minSeverity: Severity; readonly maxClients: number; readonly maxBufferedBytes: number };
  };
}

let validator: ValidateFunction | undefined;

function compile(): ValidateFunction {
  if (validator) return validator;
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
  // `format` is annotation-only here: silences' `until` is parsed by Date and checked below.
  ajv.addFormat('date-time', true);
  validator = ajv.compile(JSON.parse(readFileSync(ALERTS_CONFIG_SCHEMA_PATH, 'utf8')) as object);
  return validator;
}

/**
 * Validates the alerts section on its own (the full config validates it by
 * $id as well), fills defaults and freezes it. Errors name the field.
 */
export function parseAlertsConfig(input: unknown = {}, source = 'alerts'): AlertsConfig {
  const copy = structuredClone(input ?? {}) as unknown;
  const validate = compile();
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${source}${e.instancePath || '/'}: ${e.message ?? e.keyword}`);
    throw new GatewatchError('GW_ERR_CONFIG_INVALID', 'invalid alerts configuration', problems);
  }
  const config = copy as AlertsConfig;
  const problems = config.silences.flatMap((s, i) =>
    s.until !== undefined && Number.isNaN(Date.parse(s.until)) ? [`${source}/silences/${i}/until: must be an ISO 8601 date-time`] : [],
  );
  if (problems.length > 0) throw new GatewatchError('GW_ERR_CONFIG_INVALID', 'invalid alerts configuration', problems);
  return deepFreeze(config);
}

export function defaultAlertsConfig(): AlertsConfig {
  return parseAlertsConfig({});
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
