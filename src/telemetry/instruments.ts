import { AggregatedCounter, AggregatedHistogram, AggregatedUpDownCounter, type AnyAggregatedInstrument } from './aggregated.js';
import type { Metrics } from './metrics.js';

// The instruments behind the Metrics interface (metrics.ts, where each field's
// labels are listed): their names, kinds and descriptions. Kept apart from the
// SDK set-up so the inspection worker can record without loading the SDK.

export const LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** The pre-aggregated instruments of a Metrics, by their field name. */
export type InstrumentName = { [K in keyof Metrics]: Metrics[K] extends AnyAggregatedInstrument ? K : never }[keyof Metrics];

export function createInstruments(): Pick<Metrics, InstrumentName> {
  const seconds = (name: string, description: string) => new AggregatedHistogram(name, description, 's', LATENCY_BUCKETS_SECONDS);
  return {
    requests: new AggregatedCounter('gatewatch_requests', 'Proxied requests by route, provider, model and upstream status (provider "uninspected", model "none" when inspection did not see the exchange)'),
    tokens: new AggregatedCounter('gatewatch_tokens', 'Tokens reported by the upstream, by type (prompt|completion)'),
    addedLatency: seconds('gatewatch_added_latency', 'Time gatewatch adds between receiving a request and handing it to the upstream'),
    upstreamLatency: seconds('gatewatch_upstream_latency', 'Time from forwarding a request to the end of the upstream response'),
    upstreamErrors: new AggregatedCounter('gatewatch_upstream_errors', 'Requests the upstream could not answer, by reason'),
    bytesInspected: new AggregatedCounter('gatewatch_inspected_bytes', 'Bytes captured for inspection'),
    inspectionPartial: new AggregatedCounter('gatewatch_inspection_partial', 'Exchanges inspected only in part (capture cap or decode limit)'),
    inspectionQueueDepth: new AggregatedUpDownCounter(
      'gatewatch_inspection_queue_depth',
      'Exchanges captured and not yet inspected (waiting or being inspected): while it stays up, inspection runs behind traffic and alerts come late',
    ),
    inspectionDropped: new AggregatedCounter('gatewatch_inspection_dropped', 'Exchanges not inspected at all: queue full, forwarding busy (overload) or lost with a restarted worker'),
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
