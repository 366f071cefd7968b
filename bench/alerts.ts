// Alerts per second through the alert pipeline with every sink on: stdout
// (to a discarding stream), Slack and a signed webhook (local fake servers),
// the WebSocket stream (one local subscriber) and OpenTelemetry (a real
// collector when .tools/bin/otelcol exists). Prints, for the same run, the
// cost of submit() with no findings (the baseline every exchange pays) and
// with one new alert per exchange.
//
//   npx tsc -p tsconfig.json --outDir dist-alerts && node dist-alerts/bench/alerts.js [alerts]

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { createAlertsApi } from '../src/admin/alerts-api.js';
import { parseAlertsConfig } from '../src/alerts/config.js';
import { createAlertPipeline } from '../src/alerts/pipeline.js';
import { makeExchange } from '../src/exchange.js';
import { createFingerprinter } from '../src/fingerprint.js';
import { silentLogger } from '../src/log.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { createOtel } from '../src/telemetry/otel.js';
import type { Finding } from '../src/types.js';
import { createCollector, logRecords } from '../test/alerts/collector.js';
import { startFakeSlack } from '../test/helpers/fake-slack.js';
import { startFakeWebhook } from '../test/helpers/fake-webhook.js';
import { findTool } from '../test/helpers/tools.js';

const N = Number(process.argv[2] ?? 20_000);
const fp = createFingerprinter('bench');

const discard = new Writable({ write: (_c, _e, done) => done() });

async function main(): Promise<void> {
  const otelcol = findTool('otelcol');
  const collector = otelcol ? await createCollector(otelcol) : undefined;
  await collector?.start();
  const slack = await startFakeSlack();
  const hook = await startFakeWebhook('bench-secret');
  const otel = collector ? createOtel({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint, OTEL_METRICS_EXPORTER: 'none' }) : undefined;
  const metrics = createMetrics();
  const big = N + 1000;
  const config = parseAlertsConfig({
    maxIncidents: big,
    sinks: {
      stdout: { enabled: true },
      slack: { url: slack.url, minSeverity: 'info', ratePerMinute: 600_000, queueSize: big, digestThreshold: 5, digestMax: 40 },
      webhook: { url: hook.url, secret: 'bench-secret', minSeverity: 'info', ratePerMinute: 6_000_000, queueSize: big, concurrency: 16 },
      otel: { enabled: Boolean(otel), queueSize: big, batchSize: 512 },
      // One burst of N alerts: let the subscriber's buffer hold it.
      stream: { ringSize: 1000, maxBufferedBytes: 256 * 1024 * 1024 },
    },
  });
  const pipeline = createAlertPipeline(config, { metrics, logger: silentLogger(), otel, stdout: discard });

  const api = createAlertsApi({ pipeline, requireToken: false });
  const admin = createServer((req, res) => void (api.handle(req, res) || res.writeHead(404).end()));
  admin.on('upgrade', (req, socket, head) => void (api.handleUpgrade(req, socket, head) || socket.destroy()));
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
  let streamed = 0;
  const ws = new WebSocket(`ws://127.0.0.1:${(admin.address() as AddressInfo).port}/api/alerts/stream`);
  ws.on('message', () => streamed++);
  await new Promise((r) => ws.once('open', r));
  while (pipeline.stream.subscribers === 0) await new Promise((r) => setTimeout(r, 5));

  const exchange = makeExchange({ method: 'POST', path: '/v1/chat/completions', provider: 'openai', operation: 'chat', model: 'gpt-4o', identity: { clientIp: '10.0.0.1', keyFingerprint: fp('caller') } });
  const findings: Finding[][] = Array.from({ length: N }, (_, i) => [
    { detector: 'credential.openai-project-key', category: 'credential', severity: 'high', title: 'OpenAI key in a prompt', kind: 'secret', location: { path: 'request.body.messages[0].content', start: 0, end: 51 }, fingerprint: fp(`key-${i}`), prefix: 'sk-proj-', length: 51 },
  ]);

  // Baseline: exchanges without findings (what every clean request costs).
  const none: Finding[] = [];
  for (let i = 0; i < 10_000; i++) pipeline.submit(none, exchange);
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) pipeline.submit(none, exchange);
  const baselineNs = Number(process.hrtime.bigint() - t0) / N;

  // One new alert per exchange, every sink on.
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) pipeline.submit(findings[i]!, exchange);
  const submitNs = Number(process.hrtime.bigint() - t0) / N;

  // Until every sink has delivered everything.
  const digestSize = (p: unknown) => Number(/gatewatch: (\d+) alerts/.exec((p as { text: string }).text)?.[1] ?? 1);
  const slackDelivered = () => slack.accepted.reduce<number>((n, p) => n + digestSize(p), 0);
  const otelDelivered = () => (collector ? logRecords(collector.read('logs')).length : N);
  const deadline = Date.now() + 120_000;
  let lastCheck = 0;
  while (Date.now() < deadline) {
    if (Date.now() - lastCheck > 250) {
      lastCheck = Date.now();
      if (hook.accepted.length >= N && slackDelivered() >= N && streamed >= N && otelDelivered() >= N) break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const endToEndS = Number(process.hrtime.bigint() - t0) / 1e9;
  const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;

  console.log(`alerts bench: ${N} alerts, sinks: stdout, slack (fake), webhook (fake, signed), stream (1 subscriber)${collector ? ', otel (real collector, http/protobuf)' : ' [otel skipped: no otelcol]'}`);
  console.log(`  submit, no findings (baseline):  ${(baselineNs / 1000).toFixed(2)} µs/exchange`);
  console.log(`  submit, 1 new alert/exchange:    ${(submitNs / 1000).toFixed(2)} µs/exchange  (${(submitNs / baselineNs).toFixed(1)}× baseline; ${Math.round(1e9 / submitNs)} alerts/s accepted)`);
  console.log(`  delivered to every sink:         ${(N / endToEndS).toFixed(0)} alerts/s end to end (${endToEndS.toFixed(2)} s)`);
  console.log(`  delivered: webhook ${hook.accepted.length}, slack ${slackDelivered()} in ${slack.accepted.length} messages, stream ${streamed}, otel ${collector ? otelDelivered() : 'n/a'}; heap ${heapMb.toFixed(0)} MB`);

  ws.close();
  api.close();
  await pipeline.close(2000);
  await otel?.shutdown();
  admin.closeAllConnections();
  admin.close();
  await slack.close();
  await hook.close();
  await collector?.dispose();
}

await main();
