import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createInstruments } from '../../src/telemetry/instruments.js';
import { LATENCY_BUCKETS_SECONDS, createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { applyMetricDeltas, createRecordingMetrics } from '../../src/telemetry/relay-metrics.js';
import { send } from '../helpers/servers.js';

// The pre-aggregated instruments must export exactly what the SDK's own
// instruments export for the same calls, and a worker's deltas must add up
// to what recording on the main thread would have given.

async function scrape(handler: Metrics['handlePrometheus']): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as { port: number };
    return (await send(`http://127.0.0.1:${port}/metrics`)).body.toString();
  } finally {
    server.close();
  }
}

type Recorder = Pick<Metrics, 'requests' | 'addedLatency' | 'activeConnections'>;

function record(m: Recorder): void {
  m.requests.add(1, { route: 'default', provider: 'openai', model: 'gpt-4o', status: '200' });
  // The same attribute set in another key order is the same series.
  m.requests.add(2, { status: '200', model: 'gpt-4o', provider: 'openai', route: 'default' });
  m.requests.add(1, { route: 'default', provider: 'anthropic', model: 'claude', status: '500' });
  m.requests.add(-5, { route: 'default', provider: 'openai', model: 'gpt-4o', status: '200' }); // ignored: counters only go up
  for (const v of [0, 0.0001, 0.00010001, 0.0005, 0.3, 59, 61, 1e9, -1, Number.NaN]) m.addedLatency.record(v, { route: 'default' });
  m.activeConnections.add(1, { kind: 'http' });
  m.activeConnections.add(1, { kind: 'http' });
  m.activeConnections.add(-1, { kind: 'http' });
  m.activeConnections.add(-1, { kind: 'websocket' });
}

function sdkReference(): { recorder: Recorder; handler: Metrics['handlePrometheus'] } {
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const meter = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'gatewatch' }), readers: [prometheus] }).getMeter('gatewatch');
  // Same names and texts as ours: what is compared is the exporting.
  const ours = createInstruments();
  const recorder = {
    requests: meter.createCounter(ours.requests.name, { description: ours.requests.description }),
    addedLatency: meter.createHistogram(ours.addedLatency.name, {
      description: ours.addedLatency.description,
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_SECONDS },
    }),
    activeConnections: meter.createUpDownCounter(ours.activeConnections.name, { description: ours.activeConnections.description }),
  } as unknown as Recorder;
  return { recorder, handler: (req, res) => prometheus.getMetricsRequestHandler(req, res) };
}

test('the Prometheus text is what the OpenTelemetry SDK gives for the same calls', async () => {
  const sdk = sdkReference();
  record(sdk.recorder);
  const ours = createMetrics();
  record(ours);
  const expected = await scrape(sdk.handler);
  assert.match(expected, /gatewatch_added_latency_bucket/);
  assert.equal(await scrape(ours.handlePrometheus), expected);
  await ours.shutdown();
});

test('deltas from a worker add up to recording on the main thread', async () => {
  const direct = createMetrics();
  const relayed = createMetrics();
  const worker = createRecordingMetrics();
  record(direct);
  record(worker.metrics);
  const first = worker.drain();
  assert.ok(first.length > 0);
  applyMetricDeltas(relayed, first);
  // A second round: only what changed since the first drain travels.
  direct.requests.add(4, { route: 'default', provider: 'openai', model: 'gpt-4o', status: '200' });
  worker.metrics.requests.add(4, { route: 'default', provider: 'openai', model: 'gpt-4o', status: '200' });
  const second = worker.drain();
  assert.deepEqual(
    second.map(([name, delta]) => [name, delta.length]),
    [['requests', 1]],
  );
  applyMetricDeltas(relayed, second);
  assert.deepEqual(worker.drain(), []);
  assert.equal(await scrape(relayed.handlePrometheus), await scrape(direct.handlePrometheus));
  await Promise.all([direct.shutdown(), relayed.shutdown()]);
});

test('NaN is never counted (the SDK would turn the series into NaN for good)', async () => {
  const m = createMetrics();
  m.requests.add(2, { route: 'default' });
  m.requests.add(Number.NaN, { route: 'default' });
  assert.match(await scrape(m.handlePrometheus), /^gatewatch_requests_total\{route="default"\} 2$/m);
  await m.shutdown();
});

test('attribute sets beyond the cardinality limit share one overflow series', async () => {
  const m = createMetrics();
  for (let i = 0; i < 2100; i++) m.findings.add(1, { detector: `d${i}`, category: 'credential', severity: 'high' });
  const text = await scrape(m.handlePrometheus);
  const series = text.split('\n').filter((l) => l.startsWith('gatewatch_findings_total{'));
  assert.equal(series.length, 2001);
  assert.ok(series.includes('gatewatch_findings_total{otel_metric_overflow="true"} 100'), series.at(-1));
  await m.shutdown();
});

test('a bound series records exactly what calls with its attributes would, and exists only once used', async () => {
  const bound = createMetrics();
  const called = createMetrics();
  const latency = bound.addedLatency.bind({ route: 'default' });
  const active = bound.activeConnections.bind({ kind: 'http' });
  bound.upstreamLatency.bind({ route: 'never-used' });
  assert.doesNotMatch(await scrape(bound.handlePrometheus), /never-used/);
  for (const v of [0.0004, 0.002, 0.002, 1.5, Number.NaN, -1]) {
    latency.record(v);
    called.addedLatency.record(v, { route: 'default' });
  }
  active.add(3);
  active.add(-1);
  called.activeConnections.add(3, { kind: 'http' });
  called.activeConnections.add(-1, { kind: 'http' });
  // Calls with the same attributes land in the bound series too.
  bound.addedLatency.record(0.01, { route: 'default' });
  called.addedLatency.record(0.01, { route: 'default' });
  assert.equal(await scrape(bound.handlePrometheus), await scrape(called.handlePrometheus));
  await Promise.all([bound.shutdown(), called.shutdown()]);
});
