import type { Fingerprinter } from '../../fingerprint.js';
import type { Detector } from '../../types.js';
import { createBulkDetector, type PartSecretCounter } from './bulk.js';
import { createCanaryDetector } from './canary.js';
import { createChannelDetector } from './channels.js';
import type { ExfiltrationConfig } from './config.js';
import { createEchoDetector } from './echo.js';
import { createExtractionDetector } from './extraction-detector.js';
import { loadPromptModel } from './prompt-model.js';
import { loadExtractionRules } from './rules.js';

// Prompt exfiltration detection: extraction/injection phrases in prompts,
// system-prompt echo, canaries, exfiltration channels and bulk sensitive data.

export interface ExfiltrationDetectorOptions {
  readonly config: ExfiltrationConfig;
  readonly fingerprint: Fingerprinter;
  /** Number of credentials in a text (the credential engine); used for bulk counts and to keep previews clean. */
  readonly countSecrets?: (text: string) => number;
  /** The same for a prompt part, when the part's scan is shared with the credential detectors. */
  readonly countPartSecrets?: PartSecretCounter;
  /** Rule directories on top of config.extraRuleDirs. */
  readonly extraRuleDirs?: readonly string[];
}

/** Builds the enabled exfiltration detectors. Loads and checks the rules and the prompt model: throws GW_ERR_RULE_INVALID. */
export function createExfiltrationDetectors(opts: ExfiltrationDetectorOptions): Detector[] {
  const { config, countSecrets } = opts;
  if (!config.enabled) return [];
  // The shipped rules' samples are checked by `gatewatch rules test` and the tests, not in every process.
  const rules = loadExtractionRules([...config.extraRuleDirs, ...(opts.extraRuleDirs ?? [])], undefined, { checkShippedSamples: false });
  const model = config.model.enabled ? loadPromptModel() : undefined;
  const detectors: Detector[] = [createExtractionDetector({ config, rules, countSecrets, model })];
  if (config.echo.enabled) detectors.push(createEchoDetector(config.echo));
  if (config.canaries.length > 0) detectors.push(createCanaryDetector(config.canaries, opts.fingerprint));
  detectors.push(createChannelDetector({ allowlistHosts: config.allowlistHosts, countSecrets }));
  const countPart = opts.countPartSecrets ?? (countSecrets && ((part: { readonly text: string }) => countSecrets(part.text)));
  if (config.bulk.enabled) detectors.push(createBulkDetector(config.bulk, countPart));
  return detectors;
}

export { DEFAULT_EXFILTRATION_CONFIG, parseExfiltrationConfig, type ExfiltrationConfig } from './config.js';
export { EchoTracker, echoFinding, systemTexts, type EchoResult } from './echo.js';
export { listExfiltrationRules, testExfiltrationRules, type RuleSummary, type RuleTestResult } from './rules-cli.js';
