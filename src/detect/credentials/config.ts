import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { GatewatchError } from '../../errors.js';
import { PROJECT_ROOT } from '../../paths.js';
import type { Severity } from '../../types.js';

// The `credentials` section of the gatewatch config. config.schema.json next
// to this file is the source of truth (with every default); this type
// mirrors it.

export interface CredentialsConfig {
  readonly enabled: boolean;
  readonly rulesDirs: readonly string[];
  readonly disabledRules: readonly string[];
  readonly minSeverity: Severity;
  readonly virtualKeysOnly: boolean;
  readonly scanHeaders: boolean;
  readonly maxFindingsPerExchange: number;
  readonly liveness: { readonly enabled: boolean; readonly cacheSize: number; readonly ttlSeconds: number };
  readonly correlation: { readonly cacheSize: number; readonly maxSightings: number };
}

export const CREDENTIALS_CONFIG_SCHEMA_PATH = join(PROJECT_ROOT, 'src', 'detect', 'credentials', 'config.schema.json');

let validate: ReturnType<Ajv['compile']> | undefined;

/** Validates a raw `credentials` section, fills defaults, returns it frozen. Throws GW_ERR_CONFIG_INVALID. */
export function parseCredentialsConfig(raw: unknown = {}): CredentialsConfig {
  validate ??= new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(
    JSON.parse(readFileSync(CREDENTIALS_CONFIG_SCHEMA_PATH, 'utf8')) as object,
  );
  const copy: unknown = structuredClone(raw ?? {});
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `credentials${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
    throw new GatewatchError('GW_ERR_CONFIG_INVALID', 'invalid credentials config', problems);
  }
  return deepFreeze(copy as CredentialsConfig);
}

export const DEFAULT_CREDENTIALS_CONFIG: CredentialsConfig = parseCredentialsConfig({});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
