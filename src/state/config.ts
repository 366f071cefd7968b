import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { GatewatchError } from '../errors.js';
import { PROJECT_ROOT } from '../paths.js';

// The `state` section of the gatewatch config; config.schema.json next to
// this file is the source of truth and this type mirrors it.

export interface StateConfig {
  readonly redisUrl: string | null;
  readonly keyPrefix: string;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly ttlDays: number;
  readonly timeouts: { readonly commandMs: number; readonly connectMs: number; readonly retryAfterMs: number };
}

export const STATE_CONFIG_SCHEMA_PATH = join(PROJECT_ROOT, 'src', 'state', 'config.schema.json');

let validate: ValidateFunction | undefined;

/** Validates a raw `state` section, fills defaults, returns it frozen. Throws GW_ERR_CONFIG_INVALID. */
export function parseStateConfig(raw: unknown = {}): StateConfig {
  validate ??= new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true }).compile(
    JSON.parse(readFileSync(STATE_CONFIG_SCHEMA_PATH, 'utf8')) as object,
  );
  const copy: unknown = structuredClone(raw ?? {});
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `state${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
    throw new GatewatchError('GW_ERR_CONFIG_INVALID', 'invalid state config', problems);
  }
  const c = copy as StateConfig;
  return Object.freeze({ ...c, timeouts: Object.freeze({ ...c.timeouts }) });
}
