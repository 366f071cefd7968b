import type { Config } from '../config/types.js';
import type { Fingerprinter } from '../fingerprint.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { StateStore } from '../state/store.js';
import type { Detector } from '../types.js';
import { createAnomalyDetectors } from './anomaly/index.js';
import { createCredentialDetectors, loadCredentialRules } from './credentials/index.js';
import { createPartScans } from './engine/part-scans.js';
import { SecretScanner } from './engine/scanner.js';
import { createExfiltrationDetectors } from './exfiltration/index.js';

// The one list of detector families. Content detectors (credentials,
// exfiltration) need nothing but the exchange; anomaly detectors need state.

type ContentConfig = Pick<Config, 'credentials' | 'exfiltration'>;

export function createContentDetectors(config: ContentConfig, fingerprint: Fingerprinter): Detector[] {
  const pack = loadCredentialRules(config.credentials.rulesDirs);
  // One scanner for both families; the bulk-data detector counts the secrets
  // the credential detectors found in a prompt part instead of scanning it
  // again, without their liveness and correlation side effects.
  const scanner = new SecretScanner(pack, { disabledRules: config.credentials.disabledRules });
  const partScans = createPartScans(scanner);
  const credentials = config.credentials.enabled ? createCredentialDetectors({ fingerprint, config: config.credentials, pack, partScans }) : [];
  const countSecrets = (text: string) => scanner.scan(text).length;
  const countPartSecrets = (part: { readonly text: string }) => partScans.scan(part).length;
  const exfiltration = config.exfiltration.enabled
    ? createExfiltrationDetectors({ config: config.exfiltration, fingerprint, countSecrets, countPartSecrets })
    : [];
  return [...credentials, ...exfiltration];
}

export function createAllDetectors(
  config: ContentConfig & Pick<Config, 'anomaly'>,
  deps: { fingerprint: Fingerprinter; store: StateStore; metrics: Metrics },
): Detector[] {
  const anomaly = config.anomaly.enabled ? createAnomalyDetectors({ config: config.anomaly, store: deps.store, metrics: deps.metrics }) : [];
  return [...createContentDetectors(config, deps.fingerprint), ...anomaly];
}
