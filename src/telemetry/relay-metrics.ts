import { createNoopMeter, type Attributes } from '@opentelemetry/api';
import { LabelLimiter } from './labels.js';
import type { Metrics } from './metrics.js';

// Metrics recorded in a worker thread travel to the main thread, where the
// one Prometheus exporter lives: the worker records into a buffer of
// operations and posts it now and then; the main thread replays them.

const INSTRUMENTS = [
  'requests',
  'tokens',
  'addedLatency',
  'upstreamLatency',
  'upstreamErrors',
  'bytesInspected',
  'inspectionPartial',
  'inspectionDropped',
  'detectorRuns',
  'detectorDuration',
  'findings',
  'alerts',
  'sinkAlerts',
  'sinkQueueDepth',
  'stateBackend',
  'stateErrors',
  'wsMessages',
  'activeConnections',
] as const satisfies ReadonlyArray<keyof Metrics>;

type InstrumentName = (typeof INSTRUMENTS)[number];

/** [instrument index, value, attributes] */
export type MetricOp = [number, number, Attributes | undefined];

const MAX_BUFFERED_OPS = 100_000;

export interface RecordingMetrics {
  readonly metrics: Metrics;
  /** Takes the operations recorded since the last call. */
  drain(): MetricOp[];
}

export function createRecordingMetrics(): RecordingMetrics {
  let ops: MetricOp[] = [];
  const record = (index: number) => (value: number, attributes?: Attributes) => {
    if (ops.length < MAX_BUFFERED_OPS) ops.push([index, value, attributes]);
  };
  const instruments = {} as Record<InstrumentName, unknown>;
  INSTRUMENTS.forEach((name, index) => {
    const fn = record(index);
    instruments[name] = { add: fn, record: fn };
  });
  const metrics = {
    ...(instruments as unknown as Pick<Metrics, InstrumentName>),
    meter: createNoopMeter(),
    modelLabel: new LabelLimiter(100),
    routeLabel: new LabelLimiter(100),
    handlePrometheus: (_req, res) => {
      res.writeHead(404);
      res.end();
    },
    shutdown: async () => undefined,
  } satisfies Metrics;
  return {
    metrics,
    drain() {
      const out = ops;
      ops = [];
      return out;
    },
  };
}

export function applyMetricOps(metrics: Metrics, ops: readonly MetricOp[]): void {
  for (const [index, value, attributes] of ops) {
    const name = INSTRUMENTS[index];
    if (name === undefined) continue;
    const instrument = metrics[name] as { add?: (v: number, a?: Attributes) => void; record?: (v: number, a?: Attributes) => void };
    if (instrument.add) instrument.add(value, attributes);
    else instrument.record?.(value, attributes);
  }
}
