import type { SeriesOptions, SeriesSnapshot } from '../../state/store.js';
import { DAY_MS, type DetectorFactory, fieldNames, identityDetector, isError, MINUTE_MS, warmupMs } from './base.js';
import { num, percent, span } from './format.js';
import { requireParam } from './rules.js';

// The share of failing requests in the last minute against the identity's
// long-run failure share (both from one series of [requests, errors]).

const OK = [1, 0];
const FAILED = [1, 1];

export const errorRateSpike: DetectorFactory = (deps) => {
  const { rule } = deps;
  const baselineDays = requireParam(rule, 'baselineDays');
  const minShare = requireParam(rule, 'minRatio');
  const factor = requireParam(rule, 'peakFactor');
  const buckets = (baselineDays * DAY_MS) / MINUTE_MS;
  const opts: SeriesOptions = { bucketMs: MINUTE_MS, alpha: 1 / buckets, peakDecay: Math.pow(0.5, 1 / buckets) };
  const minAge = warmupMs(rule);
  const field = fieldNames('er');
  return identityDetector<SeriesSnapshot>(deps, {
    observe: (records, kind, exchange, now) => records.series(field[kind], isError(exchange.status) ? FAILED : OK, now, opts),
    judge(s, subject, exchange, now) {
      if (!isError(exchange.status)) return undefined;
      const age = now - s.first;
      if (age < minAge || s.weight < 1) return undefined;
      const requests = s.window(0);
      const errors = s.window(1);
      const share = requests > 0 ? errors / requests : 0;
      const baseline = s.mean(0) > 0 ? s.mean(1) / s.mean(0) : 0;
      if (errors < rule.minVolume || share < minShare || share < factor * baseline) return undefined;
      return {
        title: 'Error rate spike',
        summary: `${percent(share)} of ${num(Math.round(requests))} requests failed in the last minute for ${subject.label} against a baseline of ${percent(baseline)} over the last ${span(Math.min(age, baselineDays * DAY_MS))}`,
        kind: 'rate',
      };
    },
  });
};
