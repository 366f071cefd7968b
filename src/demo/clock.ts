// The demo's time-lapse clock. Anomaly detectors judge a key against its own
// history, and a newcomer should not wait hours for one: the embedded
// gatewatch starts `historyMs` in the past and runs fast until it catches up
// with real time after `catchUpMs`, then runs at real speed. The first
// seconds of the demo thus play twenty minutes of ordinary traffic, and the
// incidents that follow happen at real time against a real baseline.

import type { Detector } from '../types.js';

export interface TimeLapse {
  /** Simulated time now (ms since epoch). */
  now(): number;
  /** Simulated time at real time `real` (ms since epoch). */
  simTimeOf(real: number): number;
  /** Real time (ms since epoch) at which the simulated clock shows `simTime`. */
  realTimeOf(simTime: number): number;
  /** Simulated time at the start, `historyMs` before real time. */
  readonly simStart: number;
  /** Real time when the clock has caught up. */
  readonly caughtUpAt: number;
  readonly speed: number;
}

export function createTimeLapse(opts: { historyMs: number; catchUpMs: number; start?: number; realNow?: () => number }): TimeLapse {
  const realNow = opts.realNow ?? Date.now;
  const start = opts.start ?? realNow();
  const speed = opts.catchUpMs > 0 ? 1 + opts.historyMs / opts.catchUpMs : 1;
  const simStart = start - opts.historyMs;
  const caughtUpAt = start + opts.catchUpMs;
  return {
    simStart,
    caughtUpAt,
    speed,
    now() {
      return this.simTimeOf(realNow());
    },
    simTimeOf(real) {
      return real >= caughtUpAt ? real : simStart + (real - start) * speed;
    },
    realTimeOf(simTime) {
      return simTime >= caughtUpAt ? simTime : start + (simTime - simStart) / speed;
    },
  };
}

/** The real time (ms since epoch) the demo's traffic planned a request for, sent along with it. */
export const PLANNED_AT_HEADER = 'x-gatewatch-demo-planned-at';

/**
 * The detector, judging each exchange at the simulated time it was planned
 * for (else of its arrival) rather than at the (real) time it is inspected,
 * so neither a sender nor an inspection backlog under load can squeeze
 * minutes of history into one simulated minute.
 */
export function onTimeLapse(detector: Detector, clock: () => TimeLapse | undefined): Detector {
  return {
    id: detector.id,
    category: detector.category,
    detect(exchange, ctx) {
      const lapse = clock();
      if (!lapse) return detector.detect(exchange, ctx);
      const planned = Number(exchange.requestHeaders[PLANNED_AT_HEADER]);
      const at = Number.isFinite(planned) && planned > 0 ? planned : exchange.timings.start;
      return detector.detect(exchange, { ...ctx, now: lapse.simTimeOf(at) });
    },
  };
}
