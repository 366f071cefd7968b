import { ExtractionMatcher } from './extraction.js';
import { loadExtractionRules } from './rules.js';

// What `gatewatch rules list` and `gatewatch rules test` show for the
// exfiltration rules: every rule, and every rule's samples run through the
// full matcher (normalization, leetspeak, decoding) with all rules loaded.

export interface RuleSummary {
  readonly id: string;
  readonly family: string;
  readonly lang: string;
  readonly weight: number;
  readonly file: string;
  readonly patterns: number;
}

export interface RuleTestResult {
  readonly id: string;
  readonly file: string;
  readonly ok: boolean;
  /** e.g. `positive sample 2 did not match`; never the sample text of another rule. */
  readonly failures: readonly string[];
}

export function listExfiltrationRules(extraDirs: readonly string[] = []): RuleSummary[] {
  return loadExtractionRules(extraDirs).map((r) => ({
    id: r.id,
    family: r.family,
    lang: r.lang,
    weight: r.weight,
    file: r.file,
    patterns: r.patternCount,
  }));
}

export function testExfiltrationRules(extraDirs: readonly string[] = []): RuleTestResult[] {
  const rules = loadExtractionRules(extraDirs);
  // minScore 0: every candidate rule runs, so each rule is judged on its own.
  const matcher = new ExtractionMatcher(rules, { maxDepth: 2, maxBytes: 65536, minScore: 0 });
  return rules.map((rule) => {
    const failures: string[] = [];
    rule.samples.positive.forEach((s, i) => {
      if (!matcher.match(s).some((h) => h.rule === rule)) failures.push(`positive sample ${i + 1} did not match: ${JSON.stringify(s)}`);
    });
    rule.samples.negative.forEach((s, i) => {
      if (matcher.match(s).some((h) => h.rule === rule)) failures.push(`negative sample ${i + 1} matched: ${JSON.stringify(s)}`);
    });
    return { id: rule.id, file: rule.file, ok: failures.length === 0, failures };
  });
}
