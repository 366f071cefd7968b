import type { SeriesOptions, SeriesSnapshot } from '../../state/store.js';
import { type DetectorFactory, fieldNames, identityDetector, MINUTE_MS } from './base.js';
import { num, span } from './format.js';
import { requireParam } from './rules.js';

// A key seen for the first time that goes straight to high volume, where
// legitimate new keys ramp up over hours or days. Right after start-up every
// busy key is "first seen", so keys first seen within `newForMinutes` of the
// detector's first request are not judged.

const ONE = [1];

export const newKeyBurst: DetectorFactory = (deps) => {
  const { rule } = deps;
  const newForMs = requireParam(rule, 'newForMinutes') * MINUTE_MS;
  const opts: SeriesOptions = { bucketMs: MINUTE_MS, alpha: 0.01, peakDecay: 0.99 };
  const field = fieldNames('nk');
  let watchingSince: number | undefined;
  return identityDetector<SeriesSnapshot>(deps, {
    observe(records, kind, _exchange, now) {
      watchingSince ??= now;
      return records.series(field[kind], ONE, now, opts);
    },
    judge(s, subject, _exchange, now) {
      const age = now - s.first;
      if (age >= newForMs || s.window(0) < rule.minVolume) return undefined;
      if (s.first < watchingSince! + newForMs) return undefined;
      return {
        title: 'New key at high volume',
        summary: `${subject.label} was first seen ${span(age)} ago and already sends ${num(s.window(0))} req/min (threshold ${num(rule.minVolume)} for a key this new)`,
        kind: 'rate',
      };
    },
  });
};
