import type { DetectContext, Detector, Exchange, Finding, Role, Severity } from '../../types.js';
import type { ExfiltrationConfig } from './config.js';
import { ExtractionMatcher, scoreHits, type RuleHit } from './extraction.js';
import { safePreview, type SecretCounter } from './preview.js';
import type { PromptModel } from './prompt-model.js';
import type { ExtractionRule } from './rules.js';

// Scores each user / tool prompt part by the weights of the extraction rules
// it matches, plus what the prompt model adds, and raises one finding per
// part at or above the minimum score. Tool results count: that is how
// indirect injection arrives.

const SCANNED_ROLES: ReadonlySet<Role> = new Set<Role>(['user', 'tool', 'unknown']);

export const EXTRACTION_DETECTOR_ID = 'exfiltration.extraction';

export function severityForScore(score: number, minScore: number): Severity {
  if (score >= minScore * 2) return 'high';
  return 'medium';
}

export interface PartVerdict {
  readonly score: number;
  readonly hits: readonly RuleHit[];
  /** The prompt model's probability that the text is an attack; undefined without a model. */
  readonly probability?: number;
  /** What the model added to the score (0, 0.5 or 1). */
  readonly modelWeight: number;
}

/** Scores one text: what `gatewatch scan`, the benchmarks and the detector share. */
export function scoreText(matcher: ExtractionMatcher, text: string, model?: PromptModel): PartVerdict {
  let probability: number | undefined;
  let modelWeight = 0;
  // The model reads the text the matcher normalizes anyway.
  const credit = model && ((units: Uint16Array, length: number) => (modelWeight = model.weightOf((probability = model.probabilityOfUnits(units, length)))));
  const hits = matcher.match(text, credit);
  return { score: scoreHits(hits) + modelWeight, hits, probability, modelWeight };
}

function strongest(hits: readonly RuleHit[]): RuleHit | undefined {
  let best: RuleHit | undefined;
  for (const h of hits) if (h.rule.weight > 0 && (best === undefined || h.rule.weight > best.rule.weight)) best = h;
  return best;
}

export function createExtractionDetector(opts: {
  config: ExfiltrationConfig;
  rules: readonly ExtractionRule[];
  countSecrets?: SecretCounter;
  model?: PromptModel;
}): Detector & { readonly matcher: ExtractionMatcher; readonly model?: PromptModel } {
  const { config, countSecrets, model } = opts;
  const matcher = new ExtractionMatcher(opts.rules, { ...config.decode, minScore: config.minScore });
  const minScore = config.minScore;
  return {
    id: EXTRACTION_DETECTOR_ID,
    category: 'exfiltration',
    matcher,
    model,
    detect(exchange: Exchange, _ctx: DetectContext): Finding[] {
      const findings: Finding[] = [];
      for (const part of exchange.prompt) {
        if (!SCANNED_ROLES.has(part.role) || part.text.length === 0) continue;
        const { score, hits, probability, modelWeight } = scoreText(matcher, part.text, model);
        if (score < minScore) continue;
        const top = strongest(hits);
        const rules = hits
          .filter((h) => h.rule.weight > 0)
          .map((h) => `${h.rule.id}${h.via === 'text' ? '' : ` via ${h.via}`}`)
          .join(', ');
        const sources = [rules === '' ? '' : `rules: ${rules}`, modelWeight > 0 ? `prompt model (p ${probability!.toFixed(2)})` : ''].filter(Boolean).join('; ');
        const family = top?.rule.family ?? 'prompt model';
        // A decoded payload's phrase is shown only as the rule that matched it; the model has no phrase to show.
        const decoded = top === undefined || (top.via !== 'text' && top.via !== 'leet');
        findings.push({
          detector: EXTRACTION_DETECTOR_ID,
          category: 'exfiltration',
          severity: severityForScore(score, minScore),
          title: part.role === 'tool' ? `Injected instructions in a tool result (${family})` : `Prompt extraction or injection attempt (${family})`,
          summary: `score ${score.toFixed(1)} from ${sources}`,
          location: { path: part.path, start: top?.start ?? 0, end: top?.end ?? part.text.length },
          kind: 'phrase',
          preview: decoded ? undefined : safePreview(top.phrase, part.text.slice(top.start, top.end), countSecrets),
        });
      }
      return findings;
    },
  };
}
