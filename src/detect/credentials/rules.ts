import { loadCredentialRules as loadPack, type CredentialRule, type RulePack } from '../engine/rules-load.js';
import { SecretScanner } from '../engine/scanner.js';

// What `gatewatch rules list` and `gatewatch rules test` run on: the loaded
// pack, each rule's own samples.

export { loadPack as loadCredentialRules };
export type { CredentialRule, RulePack };

export interface RuleSummary {
  readonly id: string;
  readonly family: string;
  readonly provider: string;
  readonly severity: string;
  readonly title: string;
  readonly keywords: readonly string[];
  readonly file: string;
}

export function listRules(pack: RulePack): RuleSummary[] {
  return pack.rules.map((r) => ({
    id: r.id,
    family: r.family,
    provider: r.provider,
    severity: r.severity,
    title: r.title,
    keywords: r.keywords,
    file: r.file,
  }));
}

export interface RuleTestResult {
  readonly rule: string;
  readonly passed: boolean;
  /** Which sample failed and how; samples are shown by index, never echoed (they look like secrets). */
  readonly failures: readonly string[];
}

/**
 * Every positive sample must be found by its rule, through the full engine
 * (prefilter, windows, entropy, placeholders, checksum); no negative sample
 * may be reported by it.
 */
export function testRules(pack: RulePack): RuleTestResult[] {
  const scanner = new SecretScanner(pack);
  return pack.rules.map((rule) => {
    const failures: string[] = [];
    rule.samples.positive.forEach((s, i) => {
      if (!scanner.scan(s).some((m) => m.rule.id === rule.id)) {
        const other = scanner.scan(s).map((m) => m.rule.id);
        failures.push(`positive[${i}] not found${other.length > 0 ? ` (reported as ${other.join(', ')})` : ''}`);
      }
    });
    rule.samples.negative.forEach((s, i) => {
      if (scanner.scan(s).some((m) => m.rule.id === rule.id)) failures.push(`negative[${i}] reported`);
    });
    return { rule: rule.id, passed: failures.length === 0, failures };
  });
}
