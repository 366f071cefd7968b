import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { DetectContext, Detector, Exchange, Finding } from '../types.js';

// Runs every detector over one exchange with a time budget each. A detector
// that throws or overruns is counted and reported (once a minute per
// detector) and never affects traffic or the other detectors: fail open.

export interface DetectorRunner {
  run(exchange: Exchange, ctx: DetectContext): Promise<Finding[]>;
}

export interface RunnerOptions {
  readonly detectors: readonly Detector[];
  readonly budgetMs: number;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  /** Interval between two reports of the same detector's failures. */
  readonly reportEveryMs?: number;
}

const TIMED_OUT = Symbol('timed-out');

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createDetectorRunner(opts: RunnerOptions): DetectorRunner {
  const { detectors, budgetMs, metrics, logger } = opts;
  const reportEveryMs = opts.reportEveryMs ?? 60_000;
  const lastReport = new Map<string, number>();
  const suppressed = new Map<string, number>();

  const report = (detector: Detector, outcome: 'error' | 'timeout', detail: string) => {
    const now = Date.now();
    const last = lastReport.get(detector.id);
    if (last !== undefined && now - last < reportEveryMs) {
      suppressed.set(detector.id, (suppressed.get(detector.id) ?? 0) + 1);
      return;
    }
    const alsoSuppressed = suppressed.get(detector.id) ?? 0;
    suppressed.delete(detector.id);
    lastReport.set(detector.id, now);
    logger?.warn(
      { detector: detector.id, outcome, detail, suppressedSinceLastReport: alsoSuppressed },
      outcome === 'error' ? 'detector failed; traffic unaffected (fail open)' : 'detector overran its time budget; traffic unaffected',
    );
  };

  // Each detector's series bound once, not looked up by attributes on every run.
  type Series = Record<'ok' | 'error' | 'timeout', { add(value: number): void }> & { duration: { record(value: number): void } };
  const seriesOf = new Map<Detector, Series>();
  const record = (detector: Detector, outcome: 'ok' | 'error' | 'timeout', seconds: number) => {
    if (!metrics) return;
    let series = seriesOf.get(detector);
    if (!series) {
      const runs = (result: string) => metrics.detectorRuns.bind({ detector: detector.id, outcome: result });
      series = { ok: runs('ok'), error: runs('error'), timeout: runs('timeout'), duration: metrics.detectorDuration.bind({ detector: detector.id }) };
      seriesOf.set(detector, series);
    }
    series[outcome].add(1);
    series.duration.record(seconds);
  };

  return {
    async run(exchange, ctx) {
      const findings: Finding[] = [];
      for (let i = 0; i < detectors.length; i++) {
        const detector = detectors[i]!;
        const started = performance.now();
        try {
          let result = detector.detect(exchange, ctx);
          if (result instanceof Promise) {
            const settled = await withTimeout(result, budgetMs);
            if (settled === TIMED_OUT) {
              result.catch(() => undefined);
              record(detector, 'timeout', (performance.now() - started) / 1000);
              report(detector, 'timeout', `no answer within ${budgetMs} ms`);
              continue;
            }
            result = settled;
          }
          const elapsed = performance.now() - started;
          for (const f of result) findings.push(f);
          if (elapsed > budgetMs) {
            record(detector, 'timeout', elapsed / 1000);
            report(detector, 'timeout', `took ${elapsed.toFixed(1)} ms (budget ${budgetMs} ms)`);
          } else {
            record(detector, 'ok', elapsed / 1000);
          }
        } catch (e) {
          record(detector, 'error', (performance.now() - started) / 1000);
          report(detector, 'error', describeThrown(e));
        }
      }
      return findings;
    },
  };
}

// An error message may quote the input it choked on (JSON.parse does), and the
// input is traffic: report the error's class and where it was thrown, never its message.
function describeThrown(e: unknown): string {
  if (!(e instanceof Error)) return 'non-Error value thrown';
  const frame = e.stack?.split('\n').find((line) => line.trimStart().startsWith('at '));
  return `${e.name}${frame ? ` ${frame.trim()}` : ''}`;
}
