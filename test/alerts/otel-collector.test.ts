import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAlertPipeline } from '../../src/alerts/pipeline.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { createOtel } from '../../src/telemetry/otel.js';
import { requireTool } from '../helpers/tools.js';
import { attrs, createCollector, logRecords, metricPoints, spans } from './collector.js';
import { anomalyFinding, config, counter, exchange, scrape, secretFinding, waitFor } from './support.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const KEY = 'sk-proj-OOOO1111PPPP2222QQQQ3333RRRR4444';

function otelConfig() {
  return config({ delivery: { retryBaseMs: 50, retryMaxMs: 300, timeoutMs: 2000 }, sinks: { stdout: { enabled: false }, otel: { enabled: true } } });
}

describe('OpenTelemetry sink against a real collector', () => {
  it('exports alerts as log records, the alerts counter as a metric and span events (OTLP http/protobuf)', async (t) => {
    const bin = requireTool(t, 'otelcol', 'bash .ci/install-otelcol.sh');
    if (!bin) return;
    const collector = await createCollector(bin);
    t.after(() => collector.dispose());
    await collector.start();

    const otel = createOtel({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint, OTEL_SERVICE_NAME: 'gatewatch-test', OTEL_METRIC_EXPORT_INTERVAL: '300' })!;
    assert.ok(otel.tracerProvider && otel.createMetricReader && otel.createLogExporter);
    const metrics = createMetrics({ readers: [otel.createMetricReader] });
    const pipeline = createAlertPipeline(otelConfig(), { metrics, logger: silentLogger(), otel });
    t.after(async () => {
      await pipeline.close(100);
      await metrics.shutdown().catch(() => undefined);
      await otel.shutdown();
    });
    const now = Date.now();
    const ex = exchange({ traceId: TRACE_ID, usage: { promptTokens: 12, completionTokens: 34 }, timings: { start: now - 50, end: now } });
    pipeline.submit([secretFinding(KEY)], ex);
    pipeline.submit([anomalyFinding({ severity: 'critical' })], exchange());

    await waitFor(() => logRecords(collector.read('logs')).length >= 2, 10_000, 'log records in the collector');
    await pipeline.close(2000);
    await metrics.shutdown();
    await otel.shutdown();

    const records = logRecords(collector.read('logs'));
    const cred = records.find((r) => attrs(r.attributes)['gatewatch.detector'] === 'credential.openai-project-key')!;
    assert.ok(cred, 'credential alert record');
    assert.equal(cred.eventName, 'gatewatch.alert');
    assert.equal(cred.severityNumber, 17);
    assert.equal(cred.severityText, 'HIGH');
    assert.equal(cred.resource['service.name'], 'gatewatch-test');
    const a = attrs(cred.attributes);
    assert.equal(a['gatewatch.category'], 'credential');
    assert.equal(a['gatewatch.alert.status'], 'firing');
    assert.equal(a['gen_ai.request.model'], 'gpt-4o-mini');
    assert.equal(a['gen_ai.provider.name'], 'openai');
    assert.match(String(a['gatewatch.identity.key_fingerprint']), /^fp:[0-9a-f]{16}$/);
    const crit = records.find((r) => attrs(r.attributes)['gatewatch.detector'] === 'anomaly.request-rate')!;
    assert.equal(crit.severityNumber, 21);

    await waitFor(() => metricPoints(collector.read('metrics'), 'gatewatch_alerts').length > 0, 10_000, 'alerts metric');
    const points = metricPoints(collector.read('metrics'), 'gatewatch_alerts');
    const credPoint = points.find((p) => attrs(p.attributes).detector === 'credential.openai-project-key');
    assert.ok(credPoint);
    assert.deepEqual(Object.keys(attrs(credPoint.attributes)).sort(), ['category', 'detector', 'severity']);
    assert.equal(Number(credPoint.asInt ?? credPoint.asDouble), 1);

    await waitFor(() => spans(collector.read('traces')).some((s) => s.traceId === TRACE_ID), 10_000, 'exchange span');
    const span = spans(collector.read('traces')).find((s) => s.traceId === TRACE_ID)!;
    const sa = attrs(span.attributes);
    assert.equal(sa['gen_ai.operation.name'], 'chat');
    assert.equal(sa['gen_ai.request.model'], 'gpt-4o-mini');
    assert.equal(Number(sa['gen_ai.usage.input_tokens']), 12);
    const event = span.events?.find((e) => e.name === 'gatewatch.alert');
    assert.ok(event, 'alert span event');
    assert.equal(attrs(event.attributes)['gatewatch.detector'], 'credential.openai-project-key');

    assert.ok(!collector.rawText().includes(KEY.slice(8)), 'no secret in the collector output');
  });

  it('exports over OTLP gRPC', async (t) => {
    const bin = requireTool(t, 'otelcol', 'bash .ci/install-otelcol.sh');
    if (!bin) return;
    const collector = await createCollector(bin);
    t.after(() => collector.dispose());
    await collector.start();
    const otel = createOtel({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.grpcEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_METRICS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'none' })!;
    assert.equal(otel.createMetricReader, undefined);
    assert.equal(otel.tracerProvider, undefined);
    const pipeline = createAlertPipeline(otelConfig(), { metrics: createMetrics(), logger: silentLogger(), otel });
    t.after(async () => {
      await pipeline.close(100);
      await otel.shutdown();
    });
    pipeline.submit([secretFinding(KEY)], exchange());
    await waitFor(() => logRecords(collector.read('logs')).length === 1, 10_000, 'gRPC log record');
    await pipeline.close(1000);
    await otel.shutdown();
    assert.equal(attrs(logRecords(collector.read('logs'))[0]!.attributes)['gatewatch.detector'], 'credential.openai-project-key');
  });

  it('collector down: submit stays fast, alerts wait in the bounded queue and arrive after recovery, overflow is counted', async (t) => {
    const bin = requireTool(t, 'otelcol', 'bash .ci/install-otelcol.sh');
    if (!bin) return;
    const collector = await createCollector(bin);
    t.after(() => collector.dispose());
    const otel = createOtel({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint, OTEL_EXPORTER_OTLP_TIMEOUT: '1000', OTEL_METRICS_EXPORTER: 'none', OTEL_TRACES_EXPORTER: 'none' })!;
    const metrics = createMetrics();
    const c = config({ delivery: { retryBaseMs: 50, retryMaxMs: 300, timeoutMs: 1000 }, sinks: { stdout: { enabled: false }, otel: { enabled: true, queueSize: 20, batchSize: 5 } } });
    const pipeline = createAlertPipeline(c, { metrics, logger: silentLogger(), otel });
    t.after(async () => {
      await pipeline.close(500);
      await otel.shutdown();
    });
    const started = process.hrtime.bigint();
    for (let i = 0; i < 40; i++) pipeline.submit([secretFinding(`${KEY}-${i}`)], exchange());
    const submitMs = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(submitMs < 100, `40 submits took ${submitMs} ms`);
    await waitFor(async () => counter(await scrape(metrics), 'gatewatch_sink_alerts', { sink: 'otel', status: 'retried' }) >= 5, 10_000, 'retries while down');

    await collector.start();
    await waitFor(() => logRecords(collector.read('logs')).length >= 20, 15_000, 'delivery after recovery');
    const m = await scrape(metrics);
    const ok = counter(m, 'gatewatch_sink_alerts', { sink: 'otel', status: 'ok' });
    const dropped = counter(m, 'gatewatch_sink_alerts', { sink: 'otel', status: 'dropped' });
    // 20 queued + at most one batch in flight are delivered; the rest were dropped at the queue.
    assert.ok(ok >= 20 && ok <= 25, `delivered ${ok}`);
    assert.equal(ok + dropped, 40);
  });
});

describe('createOtel', () => {
  it('is off without an endpoint or when disabled', () => {
    assert.equal(createOtel({}), undefined);
    assert.equal(createOtel({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
  });

  it('builds signal URLs like the OTLP spec', async () => {
    const { endpointFor, protocolFor, parsePairs } = await import('../../src/telemetry/otel.js');
    assert.equal(endpointFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }, 'logs'), 'http://c:4318/v1/logs');
    assert.equal(endpointFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' }, 'traces'), 'http://t/x');
    assert.equal(endpointFor({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'metrics'), 'http://c:4317');
    assert.equal(protocolFor({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' }, 'logs'), 'http/json');
    assert.equal(protocolFor({}, 'logs'), 'http/protobuf');
    assert.deepEqual(parsePairs('a=1, b=x%20y,bad'), { a: '1', b: 'x y' });
  });
});
