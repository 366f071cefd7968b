import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { LabelLimiter } from './labels.js';

export { LabelLimiter, looksRandom } from './labels.js';

// Every metric gatewatch exports, in one place, so the dashboards and the
// docs have one list to agree with. Labels are bounded by design: no label
// ever carries a key, a fingerprint, an IP or prompt text, and free-form
// values (model, route) go through a LabelLimiter.

export interface Metrics {
  readonly meter: Meter;
  readonly requests: Counter; // route, provider, model, status
  readonly tokens: Counter; // route, provider, model, type=prompt|completion
  readonly addedLatency: Histogram; // route  (seconds gatewatch adds before the first byte reaches the upstream)
  readonly upstreamLatency: Histogram; // route, provider
  readonly upstreamErrors: Counter; // route, reason
  readonly bytesInspected: Counter; // direction=request|response|websocket
  readonly inspectionPartial: Counter; // direction, reason=cap|decode_limit|decode_error
  readonly inspectionDropped: Counter; // reason=queue_full
  readonly detectorRuns: Counter; // detector, outcome=ok|error|timeout
  readonly detectorDuration: Histogram; // detector (seconds)
  readonly findings: Counter; // detector, category, severity
  readonly alerts: Counter; // detector, category, severity
  readonly sinkAlerts: Counter; // sink, status=ok|error|dropped|retried|suppressed
  readonly sinkQueueDepth: UpDownCounter; // sink
  readonly stateBackend: UpDownCounter; // backend=memory|redis, 1 while in use
  readonly stateErrors: Counter; // backend, op
  readonly wsMessages: Counter; // direction=client|upstream
  readonly activeConnections: UpDownCounter; // kind=http|websocket
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
  /** Extra readers, e.g. an OTLP periodic reader built by the telemetry set-up. */
  readonly readers?: MetricReader[];
  /** service.name of the metrics resource (OTEL_SERVICE_NAME when set). */
  readonly serviceName?: string;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'gatewatch' }),
    readers: [prometheus, ...(opts.readers ?? [])],
  });
  const meter = provider.getMeter('gatewatch');
  const seconds = (name: string, description: string): Histogram =>
    meter.createHistogram(name, {
      description,
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SECONDS },
    });
  return {
    meter,
    requests: meter.createCounter('gatewatch_requests', { description: 'Proxied requests by route, provider, model and upstream status' }),
    tokens: meter.createCounter('gatewatch_tokens', { description: 'Tokens reported by the upstream, by type (prompt|completion)' }),
    addedLatency: seconds('gatewatch_added_latency', 'Time gatewatch adds between receiving a request and handing it to the upstream'),
    upstreamLatency: seconds('gatewatch_upstream_latency', 'Time from forwarding a request to the end of the upstream response'),
    upstreamErrors: meter.createCounter('gatewatch_upstream_errors', { description: 'Requests the upstream could not answer, by reason' }),
    bytesInspected: meter.createCounter('gatewatch_inspected_bytes', { description: 'Bytes captured for inspection' }),
    inspectionPartial: meter.createCounter('gatewatch_inspection_partial', { description: 'Exchanges inspected only in part (capture cap or decode limit)' }),
    inspectionDropped: meter.createCounter('gatewatch_inspection_dropped', { description: 'Exchanges not inspected at all (inspection queue full)' }),
    detectorRuns: meter.createCounter('gatewatch_detector_runs', { description: 'Detector runs by outcome (ok|error|timeout)' }),
    detectorDuration: seconds('gatewatch_detector_duration', 'Time a detector spent on one exchange'),
    findings: meter.createCounter('gatewatch_findings', { description: 'Findings by detector, category and severity' }),
    alerts: meter.createCounter('gatewatch_alerts', { description: 'Alerts raised (after dedup) by detector, category and severity' }),
    sinkAlerts: meter.createCounter('gatewatch_sink_alerts', { description: 'Alert deliveries per sink by status (ok|error|dropped|retried|suppressed)' }),
    sinkQueueDepth: meter.createUpDownCounter('gatewatch_sink_queue_depth', { description: 'Alerts waiting in a sink queue' }),
    stateBackend: meter.createUpDownCounter('gatewatch_state_backend', { description: '1 for the state backend in use (memory|redis)' }),
    stateErrors: meter.createCounter('gatewatch_state_errors', { description: 'State store operations that failed, by backend and operation' }),
    wsMessages: meter.createCounter('gatewatch_websocket_messages', { description: 'WebSocket messages relayed by direction' }),
    activeConnections: meter.createUpDownCounter('gatewatch_active_connections', { description: 'Open client connections by kind (http|websocket)' }),
    modelLabel: new LabelLimiter(100),
    routeLabel: new LabelLimiter(100),
    handlePrometheus: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    shutdown: () => provider.shutdown(),
  };
}

export type { Attributes };
