import { GatewatchError } from '../../errors.js';
import type { StateStore } from '../../state/store.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { Detector } from '../../types.js';
import { authFailures } from './auth-failures.js';
import type { DetectorFactory } from './base.js';
import type { AnomalyConfig } from './config.js';
import { errorRateSpike } from './error-rate.js';
import { SubjectLookup } from './identity.js';
import { manyIps } from './many-ips.js';
import { modelEnumeration } from './model-enumeration.js';
import { newKeyBurst } from './new-key-burst.js';
import { newNetwork, newUserAgent } from './new-member.js';
import { createPriceLookup } from './prices.js';
import { promptSizeOutlier } from './prompt-size.js';
import { costSpike, requestRateSpike, tokenRateSpike } from './rate-spike.js';
import { loadAnomalyRules } from './rules.js';
import { unusualHour } from './unusual-hour.js';

export type { AnomalyConfig } from './config.js';

// The one list of anomaly detectors, by rule id (detectors/anomaly/<id>.yaml).
// Adding one: a factory in this directory, its YAML file, and one line here.
const FACTORIES: Readonly<Record<string, DetectorFactory>> = {
  'auth-failures-ip': authFailures,
  'auth-failures-key': authFailures,
  'cost-spike': costSpike,
  'error-rate-spike': errorRateSpike,
  'many-ips': manyIps,
  'model-enumeration': modelEnumeration,
  'new-key-burst': newKeyBurst,
  'new-network': newNetwork,
  'new-user-agent': newUserAgent,
  'prompt-size-outlier': promptSizeOutlier,
  'request-rate-spike': requestRateSpike,
  'token-rate-spike': tokenRateSpike,
  'unusual-hour': unusualHour,
};

export const ANOMALY_DETECTOR_IDS: readonly string[] = Object.keys(FACTORIES);

/**
 * Builds every enabled anomaly detector from detectors/anomaly/*.yaml, the
 * extra rule dirs and the config's overrides and prices. Throws
 * GW_ERR_RULE_INVALID (naming file, rule id and field) on a bad rule.
 */
export function createAnomalyDetectors(opts: {
  config: AnomalyConfig;
  store: StateStore;
  metrics?: Metrics;
  extraRuleDirs?: string[];
}): Detector[] {
  const { rules, prices } = loadAnomalyRules(opts.config, [...opts.config.extraRuleDirs, ...(opts.extraRuleDirs ?? [])]);
  const lookup = createPriceLookup(prices);
  const subjects = opts.store.sync ? new SubjectLookup(opts.store.sync) : undefined;
  const shared = new Map<string, unknown>();
  const share = <T>(key: string, make: () => T): T => {
    if (!shared.has(key)) shared.set(key, make());
    return shared.get(key) as T;
  };
  const detectors: Detector[] = [];
  for (const [id, rule] of rules) {
    const factory = FACTORIES[id];
    if (!factory) {
      throw new GatewatchError('GW_ERR_RULE_INVALID', `${rule.source}: rule ${id}: /id: no anomaly detector implements this id (known: ${ANOMALY_DETECTOR_IDS.join(', ')})`);
    }
    if (rule.enabled) detectors.push(factory({ rule, store: opts.store, subjects, prices: lookup, share }));
  }
  return detectors;
}
