import { createNoopMeter } from '@opentelemetry/api';
import type { AnyAggregatedInstrument, SeriesDelta } from './aggregated.js';
import { LabelLimiter } from './labels.js';
import { createInstruments, type InstrumentName } from './instruments.js';
import type { Metrics } from './metrics.js';

// Metrics recorded in a worker thread travel to the main thread, where the
// exporters live: the worker records into instruments of its own and now and
// then posts what changed, one entry per attribute set; the main thread adds
// that to its instruments.

export type MetricDeltas = Array<[InstrumentName, SeriesDelta<unknown>]>;

export interface RecordingMetrics {
  readonly metrics: Metrics;
  /** Takes what was recorded since the last call. */
  drain(): MetricDeltas;
}

export function createRecordingMetrics(): RecordingMetrics {
  const instruments = createInstruments();
  const metrics: Metrics = {
    ...instruments,
    meter: createNoopMeter(),
    modelLabel: new LabelLimiter(100),
    routeLabel: new LabelLimiter(100),
    handlePrometheus: (_req, res) => {
      res.writeHead(404);
      res.end();
    },
    shutdown: async () => undefined,
  };
  const entries = Object.entries(instruments) as Array<[InstrumentName, AnyAggregatedInstrument]>;
  return {
    metrics,
    drain() {
      const deltas: MetricDeltas = [];
      for (const [name, instrument] of entries) {
        const delta = instrument.takeDelta();
        if (delta.length > 0) deltas.push([name, delta]);
      }
      return deltas;
    },
  };
}

export function applyMetricDeltas(metrics: Metrics, deltas: MetricDeltas): void {
  for (const [name, delta] of deltas) {
    const instrument = metrics[name] as AnyAggregatedInstrument | undefined;
    instrument?.merge(delta as never);
  }
}
