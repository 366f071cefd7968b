import type { SampleOptions, SampleSnapshot } from '../../state/store.js';
import { type DetectorFactory, fieldNames, identityDetector, promptSize } from './base.js';
import { num } from './format.js';
import { requireParam } from './rules.js';

// Prompt size outliers, judged on a log scale: an EWMA of log(characters)
// per identity, compared before the current prompt joins it.

// Prompts of one identity rarely vary less than this on a log scale; it keeps
// a key that always sends the same prompt from flagging a slightly longer one.
const MIN_LOG_STD = 0.25;

export const promptSizeOutlier: DetectorFactory = (deps) => {
  const { rule } = deps;
  const z = requireParam(rule, 'zScore');
  const minRatio = requireParam(rule, 'minRatio');
  const opts: SampleOptions = { alpha: 0.01 };
  const field = fieldNames('ps');
  return identityDetector<SampleSnapshot>(deps, {
    applies: (exchange) => promptSize(exchange) > 0,
    observe: (records, kind, exchange) => records.sample(field[kind], Math.log(promptSize(exchange)), opts),
    judge(before, subject, exchange) {
      const chars = promptSize(exchange);
      if (before.n < rule.warmup.minCount || chars < rule.minVolume) return undefined;
      const x = Math.log(chars);
      const typical = Math.exp(before.mean);
      if (x < before.mean + z * Math.max(before.std, MIN_LOG_STD) || chars < minRatio * typical) return undefined;
      return {
        title: 'Unusually large prompt',
        summary: `prompt of ${num(chars)} characters from ${subject.label} against a typical ${num(typical)} (×/÷ ${num(Math.exp(before.std))}) over its last ${num(Math.min(before.n, 1 / opts.alpha))} prompts`,
        kind: 'size',
      };
    },
  });
};
