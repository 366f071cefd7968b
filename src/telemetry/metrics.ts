import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricProducer, type MetricReader } from '@opentelemetry/sdk-metrics';
import type { AggregatedCounter, AggregatedHistogram, AggregatedUpDownCounter } from './aggregated.js';
import { createInstruments } from './instruments.js';
import { aggregatedProducer } from './metric-producer.js';
import { LabelLimiter } from './labels.js';

export { LabelLimiter, looksRandom } from './labels.js';
export { createInstruments, LATENCY_BUCKETS_SECONDS, type InstrumentName } from './instruments.js';

// Every metric gatewatch exports, in one list (created in instruments.ts),
// so the dashboards and the docs have one list to agree with. Labels are
// bounded by design: no label ever carries a key, a fingerprint, an IP or
// prompt text, and free-form values (model, route) go through a LabelLimiter.

export interface Metrics {
  /** For instruments beyond this list; the ones below are pre-aggregated (see aggregated.ts). */
  readonly meter: Meter;
  readonly requests: AggregatedCounter; // route, provider, model, status
  readonly tokens: AggregatedCounter; // route, provider, model, type=prompt|completion
  readonly addedLatency: AggregatedHistogram; // route  (seconds gatewatch adds before the first byte reaches the upstream)
  readonly upstreamLatency: AggregatedHistogram; // route, provider
  readonly upstreamErrors: AggregatedCounter; // route, reason
  readonly bytesInspected: AggregatedCounter; // direction=request|response|websocket
  readonly inspectionPartial: AggregatedCounter; // direction, reason=cap|decode_limit|decode_error
  readonly inspectionQueueDepth: AggregatedUpDownCounter; // no labels
  readonly inspectionDropped: AggregatedCounter; // reason=queue_full|overload|worker_restart
  readonly detectorRuns: AggregatedCounter; // detector, outcome=ok|error|timeout
  readonly detectorDuration: AggregatedHistogram; // detector (seconds)
  readonly findings: AggregatedCounter; // detector, category, severity
  readonly alerts: AggregatedCounter; // detector, category, severity
  readonly sinkAlerts: AggregatedCounter; // sink, status=ok|error|dropped|retried|suppressed
  readonly sinkQueueDepth: AggregatedUpDownCounter; // sink
  readonly stateBackend: AggregatedUpDownCounter; // backend=memory|redis, 1 while in use
  readonly stateErrors: AggregatedCounter; // backend, op
  readonly wsMessages: AggregatedCounter; // direction=client|upstream
  readonly activeConnections: AggregatedUpDownCounter; // kind=http|websocket
  readonly modelLabel: LabelLimiter;
  readonly routeLabel: LabelLimiter;
  /** Serves `/metrics` in the Prometheus text format. */
  handlePrometheus(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

export interface MetricsOptions {
  /** Extra readers, e.g. the OTLP periodic reader of the telemetry set-up, built around the given producer. */
  readonly readers?: ReadonlyArray<(producer: MetricProducer) => MetricReader>;
  /** service.name of the metrics resource (OTEL_SERVICE_NAME when set). */
  readonly serviceName?: string;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const instruments = createInstruments();
  const resource = resourceFromAttributes({ 'service.name': opts.serviceName ?? 'gatewatch' });
  const producer = aggregatedProducer(resource, 'gatewatch', Object.values(instruments));
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, metricProducers: [producer] });
  const provider = new MeterProvider({ resource, readers: [prometheus, ...(opts.readers ?? []).map((build) => build(producer))] });
  return {
    ...instruments,
    meter: provider.getMeter('gatewatch'),
    modelLabel: new LabelLimiter(100),
    routeLabel: new LabelLimiter(100),
    handlePrometheus: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    shutdown: () => provider.shutdown(),
  };
}

export type { Attributes };
