import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricProducer, type MetricReader } from '@opentelemetry/sdk-metrics';
import { AggregatedCounter, AggregatedHistogram, AggregatedUpDownCounter, aggregatedProducer, type AnyAggregatedInstrument } from './aggregated.js';
import { LabelLimiter } from './labels.js';

export { LabelLimiter, looksRandom } from './labels.js';

// Every metric gatewatch exports, in one place, so the dashboards and the
// docs have one list to agree with. Labels are bounded by design: no label
// ever carries a key, a fingerprint, an IP or prompt text, and free-form
// values (model, route) go through a LabelLimiter.

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
  readonly inspectionDropped: AggregatedCounter; // reason=queue_full
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

export const LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export interface MetricsOptions {
  /** Extra readers, e.g. the OTLP periodic reader of the telemetry set-up, built around the given producer. */
  readonly readers?: ReadonlyArray<(producer: MetricProducer) => MetricReader>;
  /** service.name of the metrics resource (OTEL_SERVICE_NAME when set). */
  readonly serviceName?: string;
}

/** The pre-aggregated instruments of a Metrics, by their field name. */
export type InstrumentName = { [K in keyof Metrics]: Metrics[K] extends AnyAggregatedInstrument ? K : never }[keyof Metrics];

export function createInstruments(): Pick<Metrics, InstrumentName> {
  const seconds = (name: string, description: string) => new AggregatedHistogram(name, description, 's', LATENCY_BUCKETS_SECONDS);
  return {
    requests: new AggregatedCounter('gatewatch_requests', 'Proxied requests by route, provider, model and upstream status'),
    tokens: new AggregatedCounter('gatewatch_tokens', 'Tokens reported by the upstream, by type (prompt|completion)'),
    addedLatency: seconds('gatewatch_added_latency', 'Time gatewatch adds between receiving a request and handing it to the upstream'),
    upstreamLatency: seconds('gatewatch_upstream_latency', 'Time from forwarding a request to the end of the upstream response'),
    upstreamErrors: new AggregatedCounter('gatewatch_upstream_errors', 'Requests the upstream could not answer, by reason'),
    bytesInspected: new AggregatedCounter('gatewatch_inspected_bytes', 'Bytes captured for inspection'),
    inspectionPartial: new AggregatedCounter('gatewatch_inspection_partial', 'Exchanges inspected only in part (capture cap or decode limit)'),
    inspectionDropped: new AggregatedCounter('gatewatch_inspection_dropped', 'Exchanges not inspected at all (inspection queue full)'),
    detectorRuns: new AggregatedCounter('gatewatch_detector_runs', 'Detector runs by outcome (ok|error|timeout)'),
    detectorDuration: seconds('gatewatch_detector_duration', 'Time a detector spent on one exchange'),
    findings: new AggregatedCounter('gatewatch_findings', 'Findings by detector, category and severity'),
    alerts: new AggregatedCounter('gatewatch_alerts', 'Alerts raised (after dedup) by detector, category and severity'),
    sinkAlerts: new AggregatedCounter('gatewatch_sink_alerts', 'Alert deliveries per sink by status (ok|error|dropped|retried|suppressed)'),
    sinkQueueDepth: new AggregatedUpDownCounter('gatewatch_sink_queue_depth', 'Alerts waiting in a sink queue'),
    stateBackend: new AggregatedUpDownCounter('gatewatch_state_backend', '1 for the state backend in use (memory|redis)'),
    stateErrors: new AggregatedCounter('gatewatch_state_errors', 'State store operations that failed, by backend and operation'),
    wsMessages: new AggregatedCounter('gatewatch_websocket_messages', 'WebSocket messages relayed by direction'),
    activeConnections: new AggregatedUpDownCounter('gatewatch_active_connections', 'Open client connections by kind (http|websocket)'),
  };
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
