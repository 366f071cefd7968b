import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';
import type { Metrics } from '../../src/telemetry/metrics.js';

// Test doubles for the store's dependencies that record what happened.

export interface RecordedMetrics {
  readonly metrics: Metrics;
  /** Current value of gatewatch_state_backend per backend label. */
  readonly backend: Map<string, number>;
  /** gatewatch_state_errors per op label. */
  readonly errors: Map<string, number>;
}

export function recordingMetrics(): RecordedMetrics {
  const backend = new Map<string, number>();
  const errors = new Map<string, number>();
  const metrics = {
    stateBackend: { add: (v: number, a?: { backend?: string }) => backend.set(a?.backend ?? '', (backend.get(a?.backend ?? '') ?? 0) + v) },
    stateErrors: { add: (v: number, a?: { op?: string }) => errors.set(a?.op ?? '', (errors.get(a?.op ?? '') ?? 0) + v) },
  } as unknown as Metrics;
  return { metrics, backend, errors };
}

export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

export { waitFor } from '../helpers/servers.js';
