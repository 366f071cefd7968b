import type { SeriesOptions, SeriesSnapshot } from '../../state/store.js';
import type { Exchange } from '../../types.js';
import { DAY_MS, type DetectorDeps, type DetectorFactory, identityDetector, MINUTE_MS, totalTokens, warmupMs } from './base.js';
import { num, span, usd } from './format.js';
import { type PriceLookup, requestCost } from './prices.js';
import { RateSeries } from './rate-series.js';
import { requireParam } from './rules.js';

// Spikes of a per-minute quantity against the identity's own baseline: an
// EWMA mean and variance of per-minute totals over `baselineDays`, plus a
// slowly decaying busiest minute, so bursty batch keys are judged against
// their bursts and not against their quiet hours. A minute counts as the
// busiest only once it has left the sliding window, so a burst is never
// judged against its own first part.

interface Measure {
  readonly stateTag: string;
  readonly title: string;
  value(exchange: Exchange, prices: PriceLookup): number;
  show(x: number): string;
  /** Appended to a shown rate, e.g. ` req/min`. */
  readonly unit: string;
}

function rateSpike(measure: Measure): DetectorFactory {
  return (deps: DetectorDeps) => {
    const { rule, prices } = deps;
    const baselineDays = requireParam(rule, 'baselineDays');
    const z = requireParam(rule, 'zScore');
    const peakFactor = requireParam(rule, 'peakFactor');
    const minRatio = requireParam(rule, 'minRatio');
    const buckets = (baselineDays * DAY_MS) / MINUTE_MS;
    const opts: SeriesOptions = { bucketMs: MINUTE_MS, alpha: 1 / buckets, peakDecay: Math.pow(0.5, 1 / buckets) };
    const series = deps.share(`rate-series:${baselineDays}`, () => new RateSeries(opts));
    const i = series.add(measure.stateTag);
    const minAge = warmupMs(rule);
    return identityDetector<SeriesSnapshot>(deps, {
      observe: (records, kind, exchange, now) => series.observe(records, kind, i, measure.value(exchange, prices), now),
      judge(s, subject, _exchange, now) {
        const w = s.window(i);
        if (w < rule.minVolume) return undefined;
        const age = now - s.first;
        if (age < minAge || s.weight < 1) return undefined;
        const peak = s.peak(i);
        const mean = s.mean(i);
        if (w < peakFactor * peak || w < minRatio * mean) return undefined;
        const std = s.std(i);
        if (w < mean + z * std) return undefined;
        const { show, unit } = measure;
        return {
          title: measure.title,
          summary: `${show(w)}${unit} for ${subject.label} against a baseline of ${show(mean)} ± ${show(std)}${unit} over the last ${span(Math.min(age, baselineDays * DAY_MS))} (busiest minute ${show(peak)})`,
          kind: 'rate',
        };
      },
    });
  };
}

export const requestRateSpike = rateSpike({
  stateTag: 'rq',
  title: 'Request rate spike',
  value: () => 1,
  show: num,
  unit: ' req/min',
});

export const tokenRateSpike = rateSpike({
  stateTag: 'tk',
  title: 'Token rate spike',
  value: totalTokens,
  show: num,
  unit: ' tokens/min',
});

export const costSpike = rateSpike({
  stateTag: 'co',
  title: 'Spend spike',
  value: (ex, prices) => requestCost(prices(ex.model), ex.usage.promptTokens ?? 0, ex.usage.completionTokens ?? 0),
  show: usd,
  unit: '/min',
});
