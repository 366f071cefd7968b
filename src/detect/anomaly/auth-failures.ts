import type { SeriesOptions, SeriesSnapshot } from '../../state/store.js';
import { type DetectorFactory, fieldNames, identityDetector, isAuthFailure, MINUTE_MS } from './base.js';
import { num } from './format.js';
import { requireParam } from './rules.js';

// Bursts of 401/403: per client IP they look like credential stuffing, per
// key like a revoked or rotated key that something still tries. Only failures
// are recorded, so an identity that never fails costs no state.

const ONE = [1];

export const authFailures: DetectorFactory = (deps) => {
  const { rule } = deps;
  const windowMinutes = requireParam(rule, 'windowMinutes');
  const opts: SeriesOptions = { bucketMs: windowMinutes * MINUTE_MS, alpha: 0.01, peakDecay: 0.99 };
  const field = fieldNames('af');
  return identityDetector<SeriesSnapshot>(deps, {
    applies: (exchange) => isAuthFailure(exchange.status),
    observe: (records, kind, _exchange, now) => records.series(field[kind], ONE, now, opts),
    judge(s, subject) {
      const n = s.window(0);
      if (n < rule.minVolume) return undefined;
      const byIp = subject.kind === 'ip';
      return {
        title: byIp ? 'Burst of authentication failures from one client' : 'Burst of authentication failures for one key',
        summary: `${num(n)} requests answered 401/403 for ${subject.label} in the last ${num(windowMinutes)} minutes (threshold ${num(rule.minVolume)}): ${
          byIp ? 'credential stuffing or key guessing' : 'a revoked, rotated or under-privileged key still being tried'
        }`,
        kind: 'auth',
      };
    },
  });
};
