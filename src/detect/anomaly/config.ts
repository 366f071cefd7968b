import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { GatewatchError } from '../../errors.js';
import { PROJECT_ROOT } from '../../paths.js';

// The `anomaly` section of the gatewatch config; config.schema.json next to
// this file is the source of truth and this type mirrors it.

export interface ModelPrice {
  /** USD per million prompt tokens. */
  readonly input: number;
  /** USD per million completion tokens. */
  readonly output: number;
}

export interface AnomalyConfig {
  readonly enabled: boolean;
  readonly extraRuleDirs: readonly string[];
  /** Partial rules by detector id (validated when the detectors are built). */
  readonly overrides: Readonly<Record<string, object>>;
  readonly prices: Readonly<Record<string, ModelPrice>>;
}

export const ANOMALY_CONFIG_SCHEMA_PATH = join(PROJECT_ROOT, 'src', 'detect', 'anomaly', 'config.schema.json');

let validate: ValidateFunction | undefined;

/** Validates a raw `anomaly` section, fills defaults, returns it frozen. Throws GW_ERR_CONFIG_INVALID. */
export function parseAnomalyConfig(raw: unknown = {}): AnomalyConfig {
  validate ??= new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(
    JSON.parse(readFileSync(ANOMALY_CONFIG_SCHEMA_PATH, 'utf8')) as object,
  );
  const copy: unknown = structuredClone(raw ?? {});
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `anomaly${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
    throw new GatewatchError('GW_ERR_CONFIG_INVALID', 'invalid anomaly config', problems);
  }
  return Object.freeze(copy as AnomalyConfig);
}
