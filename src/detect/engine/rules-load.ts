import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, isAbsolute } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { GatewatchError } from '../../errors.js';
import { DETECTORS_DIR, PROJECT_ROOT } from '../../paths.js';
import type { Severity } from '../../types.js';
import type { ChecksumName } from './checksums.js';
import { startsAtKeyword } from './anchor.js';
import { regexSafetyProblem } from './regex-safety.js';

// Credential rules are data: YAML files validated against
// detectors/credential-rule.schema.json, then compiled once. Later
// directories override earlier rules by id, so users add or replace rules
// without touching the shipped pack.

export const BUILTIN_RULES_DIR = join(DETECTORS_DIR, 'credentials');

export interface CredentialRule {
  readonly id: string;
  readonly title: string;
  readonly provider: string;
  readonly family: string;
  readonly severity: Severity;
  readonly keywords: readonly string[];
  /** Global (and case-insensitive when the rule says so); searched through windows around keyword hits. */
  readonly regex: RegExp;
  /** Sticky twin of `regex`, set when every match starts with a keyword: tried exactly at each keyword hit. */
  readonly sticky?: RegExp;
  readonly secretGroup?: number | string;
  readonly prefix: string;
  readonly minEntropy: number;
  readonly checksum?: ChecksumName;
  readonly checksumMismatch: 'reject' | 'downgrade';
  readonly allowlist: readonly RegExp[];
  readonly window: number;
  readonly lookbehind: number;
  readonly priority: number;
  readonly samples: { readonly positive: readonly string[]; readonly negative: readonly string[] };
  /** The file it came from, for messages. */
  readonly file: string;
}

export interface RulePack {
  readonly rules: readonly CredentialRule[];
  /** Every file's placeholder patterns, as one case-insensitive regex (undefined when none). */
  readonly placeholder?: RegExp;
}

interface RawRule {
  id: string;
  title: string;
  provider: string;
  severity: Severity;
  keywords: string[];
  pattern: string;
  ignoreCase: boolean;
  secretGroup?: number | string;
  prefix?: string;
  minEntropy: number;
  checksum?: ChecksumName;
  checksumMismatch: 'reject' | 'downgrade';
  allowlist?: string[];
  window: number;
  lookbehind: number;
  priority: number;
  samples: { positive: string[]; negative: string[] };
}

interface RawFile {
  family?: string;
  placeholders?: string[];
  rules: RawRule[];
}

let validator: ValidateFunction | undefined;
function fileValidator(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(DETECTORS_DIR, 'credential-rule.schema.json'), 'utf8')) as object;
    validator = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true }).compile(schema);
  }
  return validator;
}

function displayPath(file: string): string {
  const rel = relative(PROJECT_ROOT, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

function ruleFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new GatewatchError('GW_ERR_CONFIG_READ', `cannot read rules directory ${dir}: ${(e as Error).message}`);
  }
  return names
    .filter((n) => /\.(ya?ml|json)$/.test(n))
    .sort()
    .map((n) => join(dir, n))
    .filter((f) => statSync(f).isFile());
}

function describe(file: string, data: RawFile, e: ErrorObject): string {
  const m = /^\/rules\/(\d+)(\/.*)?$/.exec(e.instancePath);
  const id = m ? data.rules?.[Number(m[1])]?.id : undefined;
  const where = m ? `rule ${typeof id === 'string' ? JSON.stringify(id) : `#${m[1]}`}: ${m[2] ?? '/'}` : e.instancePath || '/';
  const p = e.params as Record<string, unknown>;
  const what =
    e.keyword === 'additionalProperties'
      ? `unknown field "${String(p.additionalProperty)}"`
      : e.keyword === 'required'
        ? `missing required field "${String(p.missingProperty)}"`
        : e.keyword === 'enum'
          ? `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
          : (e.message ?? e.keyword);
  return `${displayPath(file)}: ${where}: ${what} (GW_ERR_RULE_INVALID)`;
}

function compilePattern(source: string, flags: string): RegExp | string {
  try {
    return new RegExp(source, flags);
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Loads the built-in rule pack and then each extra directory in order; a
 * rule with the id of an earlier one replaces it. Every problem in every file
 * is collected into one error that names the file, the rule and the field.
 */
export function loadCredentialRules(extraDirs: readonly string[] = [], builtinDir = BUILTIN_RULES_DIR): RulePack {
  const byId = new Map<string, CredentialRule>();
  const placeholders: string[] = [];
  const invalid: string[] = [];
  const unsafe: string[] = [];
  const validate = fileValidator();

  for (const dir of [builtinDir, ...extraDirs]) {
    for (const file of ruleFiles(dir)) {
      const shown = displayPath(file);
      let data: RawFile;
      try {
        data = parseYaml(readFileSync(file, 'utf8')) as RawFile;
      } catch (e) {
        invalid.push(`${shown}: cannot parse: ${(e as Error).message.split('\n')[0]} (GW_ERR_RULE_INVALID)`);
        continue;
      }
      if (!validate(data)) {
        for (const e of validate.errors ?? []) invalid.push(describe(file, data, e));
        continue;
      }
      const family = data.family ?? basename(file).replace(/\.(ya?ml|json)$/, '');
      for (const p of data.placeholders ?? []) {
        const problem = regexSafetyProblem(p);
        if (problem) unsafe.push(`${shown}: placeholder ${JSON.stringify(p)}: ${problem} (GW_ERR_RULE_UNSAFE_REGEX)`);
        else placeholders.push(p);
      }
      for (const r of data.rules) {
        const at = `${shown}: rule ${JSON.stringify(r.id)}`;
        const problem = regexSafetyProblem(r.pattern);
        if (problem) {
          unsafe.push(`${at}: /pattern: ${problem} (GW_ERR_RULE_UNSAFE_REGEX)`);
          continue;
        }
        const regex = compilePattern(r.pattern, r.ignoreCase ? 'gi' : 'g');
        if (typeof regex === 'string') {
          invalid.push(`${at}: /pattern: ${regex} (GW_ERR_RULE_INVALID)`);
          continue;
        }
        if (typeof r.secretGroup === 'string' && !r.pattern.includes(`(?<${r.secretGroup}>`)) {
          invalid.push(`${at}: /secretGroup: no group named "${r.secretGroup}" in the pattern (GW_ERR_RULE_INVALID)`);
          continue;
        }
        const allowlist: RegExp[] = [];
        for (const [i, a] of (r.allowlist ?? []).entries()) {
          const aProblem = regexSafetyProblem(a);
          if (aProblem) unsafe.push(`${at}: /allowlist/${i}: ${aProblem} (GW_ERR_RULE_UNSAFE_REGEX)`);
          else allowlist.push(new RegExp(a, 'i'));
        }
        if (byId.has(r.id) && byId.get(r.id)!.file === shown) {
          invalid.push(`${at}: /id: duplicate id in the same file (GW_ERR_RULE_INVALID)`);
          continue;
        }
        byId.set(r.id, {
          id: r.id,
          title: r.title,
          provider: r.provider,
          family,
          severity: r.severity,
          keywords: r.keywords,
          regex,
          ...(startsAtKeyword(r.pattern, r.keywords) ? { sticky: new RegExp(r.pattern, r.ignoreCase ? 'iy' : 'y') } : {}),
          ...(r.secretGroup !== undefined ? { secretGroup: r.secretGroup } : {}),
          prefix: r.prefix ?? '',
          minEntropy: r.minEntropy,
          ...(r.checksum !== undefined ? { checksum: r.checksum } : {}),
          checksumMismatch: r.checksumMismatch,
          allowlist,
          window: r.window,
          lookbehind: r.lookbehind,
          priority: r.priority,
          samples: r.samples,
          file: shown,
        });
      }
    }
  }

  if (invalid.length > 0) throw new GatewatchError('GW_ERR_RULE_INVALID', 'invalid credential rules', [...invalid, ...unsafe]);
  if (unsafe.length > 0) throw new GatewatchError('GW_ERR_RULE_UNSAFE_REGEX', 'unsafe credential rule patterns', unsafe);
  return Object.freeze({
    rules: Object.freeze([...byId.values()]),
    ...(placeholders.length > 0 ? { placeholder: new RegExp(placeholders.map((p) => `(?:${p})`).join('|'), 'i') } : {}),
  });
}
