import type { Fingerprinter } from '../../fingerprint.js';
import type { Detector } from '../../types.js';
import { loadCredentialRules, type RulePack } from '../engine/rules-load.js';
import { createPartScans, type PartScans } from '../engine/part-scans.js';
import { SecretScanner } from '../engine/scanner.js';
import type { CredentialsConfig } from './config.js';
import { createContentDetector } from './content.js';
import { LeakCorrelator } from './correlation.js';
import { LivenessTracker } from './liveness.js';
import { createKeyInQueryDetector, createLeakedKeyUsedDetector, createProviderMismatchDetector, createRawProviderKeyDetector } from './policy.js';

// The credential detector family: content scanning plus the policy and
// liveness detectors, built once from the rule pack and the config.

export { classifyKey } from './classify-key.js';
export { DEFAULT_CREDENTIALS_CONFIG, parseCredentialsConfig, type CredentialsConfig } from './config.js';
export { listRules, testRules, type RuleSummary, type RuleTestResult } from './rules.js';
export { loadCredentialRules, type RulePack };

export interface CredentialDetectorOptions {
  readonly fingerprint: Fingerprinter;
  readonly config: CredentialsConfig;
  /** Added after config.rulesDirs; later directories override earlier rules by id. */
  readonly extraRuleDirs?: readonly string[];
  /** A pack loaded already (tests, `gatewatch scan` reuse); otherwise loaded from disk. */
  readonly pack?: RulePack;
  /** Prompt-part scans shared with other detectors; their scanner must have this config's disabled rules. */
  readonly partScans?: PartScans;
}

export function createCredentialDetectors(opts: CredentialDetectorOptions): Detector[] {
  const { config, fingerprint } = opts;
  const pack = opts.pack ?? loadCredentialRules([...config.rulesDirs, ...(opts.extraRuleDirs ?? [])]);
  const partScans = opts.partScans ?? createPartScans(new SecretScanner(pack, { disabledRules: config.disabledRules }));
  const liveness = config.liveness.enabled ? new LivenessTracker(config.liveness) : undefined;
  const correlator = new LeakCorrelator(config.correlation.cacheSize, config.correlation.maxSightings);
  return [
    // Records the upstream's verdict on the request's key before content is checked against it.
    ...(liveness ? [createLeakedKeyUsedDetector(liveness)] : []),
    createContentDetector({ partScans, fingerprint, config, liveness, correlator }),
    createProviderMismatchDetector(),
    createRawProviderKeyDetector(config),
    createKeyInQueryDetector(),
  ];
}
