import type { DetectContext, Detector, Exchange, Finding, Role, Severity } from '../../types.js';
import type { ExfiltrationConfig } from './config.js';
import { ExtractionMatcher, scoreHits, type RuleHit } from './extraction.js';
import { safePreview, type SecretCounter } from './preview.js';
import type { ExtractionRule } from './rules.js';

// Scores each user / tool prompt part by the weights of the extraction rules
// it matches, and raises one finding per part at or above the minimum score.
// Tool results count: that is how indirect injection arrives.

const SCANNED_ROLES: ReadonlySet<Role> = new Set<Role>(['user', 'tool', 'unknown']);

export const EXTRACTION_DETECTOR_ID = 'exfiltration.extraction';

export function severityForScore(score: number, minScore: number): Severity {
  if (score >= minScore * 2) return 'high';
  return 'medium';
}

export interface PartVerdict {
  readonly score: number;
  readonly hits: readonly RuleHit[];
}

/** Scores one text: what `gatewatch scan`, the benchmarks and the detector share. */
export function scoreText(matcher: ExtractionMatcher, text: string): PartVerdict {
  const hits = matcher.match(text);
  return { score: scoreHits(hits), hits };
}

function strongest(hits: readonly RuleHit[]): RuleHit {
  let best = hits[0]!;
  for (const h of hits) if (h.rule.weight > best.rule.weight) best = h;
  return best;
}

export function createExtractionDetector(opts: {
  config: ExfiltrationConfig;
  rules: readonly ExtractionRule[];
  countSecrets?: SecretCounter;
}): Detector & { readonly matcher: ExtractionMatcher } {
  const { config, countSecrets } = opts;
  const matcher = new ExtractionMatcher(opts.rules, { ...config.decode, minScore: config.minScore });
  const minScore = config.minScore;
  return {
    id: EXTRACTION_DETECTOR_ID,
    category: 'exfiltration',
    matcher,
    detect(exchange: Exchange, _ctx: DetectContext): Finding[] {
      const findings: Finding[] = [];
      for (const part of exchange.prompt) {
        if (!SCANNED_ROLES.has(part.role) || part.text.length === 0) continue;
        const { score, hits } = scoreText(matcher, part.text);
        if (score < minScore) continue;
        const top = strongest(hits);
        const rules = hits
          .filter((h) => h.rule.weight > 0)
          .map((h) => `${h.rule.id}${h.via === 'text' ? '' : ` via ${h.via}`}`)
          .join(', ');
        const decoded = top.via !== 'text' && top.via !== 'leet';
        findings.push({
          detector: EXTRACTION_DETECTOR_ID,
          category: 'exfiltration',
          severity: severityForScore(score, minScore),
          title: part.role === 'tool' ? `Injected instructions in a tool result (${top.rule.family})` : `Prompt extraction or injection attempt (${top.rule.family})`,
          summary: `score ${score.toFixed(1)} from rules: ${rules}`,
          location: { path: part.path, start: top.start, end: top.end },
          kind: 'phrase',
          // A decoded payload's phrase is shown only as the rule that matched it.
          preview: decoded ? undefined : safePreview(top.phrase, part.text.slice(top.start, top.end), countSecrets),
        });
      }
      return findings;
    },
  };
}
