import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { GatewatchError } from '../../errors.js';
import { PROJECT_ROOT } from '../../paths.js';

// The exfiltration section of the gatewatch config. The JSON Schema next to
// this file is the source of truth; the type below mirrors it.

export interface EchoConfig {
  readonly enabled: boolean;
  readonly shingleWords: number;
  readonly minShare: number;
  readonly minRunWords: number;
  readonly minSystemWords: number;
}

export interface BulkConfig {
  readonly enabled: boolean;
  readonly emails: number;
  readonly phones: number;
  readonly cards: number;
  readonly ibans: number;
  readonly nationalIds: number;
  readonly secrets: number;
  readonly total: number;
}

export interface ExfiltrationConfig {
  readonly enabled: boolean;
  readonly minScore: number;
  readonly canaries: readonly string[];
  readonly allowlistHosts: readonly string[];
  readonly decode: { readonly maxDepth: number; readonly maxBytes: number };
  readonly model: { readonly enabled: boolean };
  readonly echo: EchoConfig;
  readonly bulk: BulkConfig;
  readonly extraRuleDirs: readonly string[];
}

export const EXFILTRATION_CONFIG_SCHEMA_PATH = join(PROJECT_ROOT, 'src', 'detect', 'exfiltration', 'config.schema.json');

let validate: ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null } | undefined;

function validator(): NonNullable<typeof validate> {
  if (!validate) {
    const schema = JSON.parse(readFileSync(EXFILTRATION_CONFIG_SCHEMA_PATH, 'utf8')) as object;
    validate = new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(schema);
  }
  return validate;
}

/** Validates a raw config section, fills defaults, and returns it frozen. Throws GW_ERR_CONFIG_INVALID. */
export function parseExfiltrationConfig(raw: unknown = {}): ExfiltrationConfig {
  const copy: unknown = structuredClone(raw ?? {});
  const check = validator();
  if (!check(copy)) {
    const problems = (check.errors ?? []).map((e) => `exfiltration${e.instancePath}: ${e.message ?? 'invalid'}`);
    throw new GatewatchError('GW_ERR_CONFIG_INVALID', 'invalid exfiltration config', problems);
  }
  return deepFreeze(copy as ExfiltrationConfig);
}

export const DEFAULT_EXFILTRATION_CONFIG: ExfiltrationConfig = parseExfiltrationConfig({});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
