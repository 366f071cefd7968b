import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { createAlertPipeline } from '../../src/alerts/pipeline.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { startFakeSlack } from '../helpers/fake-slack.js';
import { startFakeWebhook } from '../helpers/fake-webhook.js';
import { config, counter, exchange, scrape, secretFinding, sleep, waitFor } from './support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

function digestSize(payload: unknown): number {
  const m = /gatewatch: (\d+) alerts/.exec((payload as { text: string }).text);
  return m ? Number(m[1]) : 1;
}

describe('faults', () => {
  it('Slack down for a long stretch: submit stays fast, memory flat, queue delivered after recovery, drops counted', async (t) => {
    const slack = await startFakeSlack();
    const hook = await startFakeWebhook('s3cret');
    const metrics = createMetrics();
    const queueSize = 25;
    const pipeline = createAlertPipeline(
      config({
        maxIncidents: 2000,
        delivery: { retryBaseMs: 20, retryMaxMs: 100 },
        sinks: {
          stdout: { enabled: false },
          slack: { url: slack.url, minSeverity: 'info', queueSize, ratePerMinute: 6000, digestThreshold: 5, digestMax: 20 },
          webhook: { url: hook.url, secret: 's3cret', minSeverity: 'info', queueSize, ratePerMinute: 60000 },
        },
      }),
      { metrics, logger: silentLogger() },
    );
    t.after(async () => {
      await pipeline.close(200);
      await slack.close();
      await hook.close();
    });
    slack.mode = 'down';
    hook.mode = 'slow';
    hook.slowMs = 5000;

    const ex = exchange();
    // Warm up so the JIT and lazily created objects do not count as growth.
    for (let i = 0; i < 200; i++) pipeline.submit([secretFinding(`sk-proj-warm${i}AAAABBBBCCCCDDDDEEEE`)], ex);
    const before = heapMb();
    const total = 20_000;
    const started = process.hrtime.bigint();
    let slowest = 0;
    for (let i = 0; i < total; i++) {
      const s = process.hrtime.bigint();
      pipeline.submit([secretFinding(`sk-proj-${i}AAAABBBBCCCCDDDDEEEEFFFF`)], ex);
      slowest = Math.max(slowest, Number(process.hrtime.bigint() - s) / 1e6);
      if (i % 2000 === 0) await sleep(1); // let retries run in between
    }
    const perSubmitUs = Number(process.hrtime.bigint() - started) / 1e3 / total;
    await sleep(300);
    const growth = heapMb() - before;
    t.diagnostic(`submit: ${perSubmitUs.toFixed(1)} µs mean, slowest ${slowest.toFixed(2)} ms; heap growth ${growth.toFixed(1)} MB for ${total} alerts`);
    assert.ok(perSubmitUs < 500, `mean submit ${perSubmitUs} µs`);
    assert.ok(growth < 30, `heap grew ${growth} MB`);
    const down = await scrape(metrics);
    assert.ok(counter(down, 'gatewatch_sink_alerts', { sink: 'slack-default', status: 'retried' }) > 0, 'retries counted');
    assert.ok(counter(down, 'gatewatch_sink_alerts', { sink: 'slack-default', status: 'dropped' }) >= total - queueSize - 200, 'drops counted');
    assert.ok(counter(down, 'gatewatch_sink_queue_depth', { sink: 'slack-default' }) <= queueSize);

    slack.mode = 'ok';
    await waitFor(() => slack.accepted.reduce<number>((n, p) => n + digestSize(p), 0) >= queueSize, 10_000, 'queued alerts after recovery');
    await sleep(200);
    const delivered = slack.accepted.reduce<number>((n, p) => n + digestSize(p), 0);
    assert.ok(delivered >= queueSize && delivered <= queueSize + 20, `delivered ${delivered}`);
    const after = await scrape(metrics);
    const ok = counter(after, 'gatewatch_sink_alerts', { sink: 'slack-default', status: 'ok' });
    const dropped = counter(after, 'gatewatch_sink_alerts', { sink: 'slack-default', status: 'dropped' });
    assert.equal(ok, delivered);
    assert.equal(ok + dropped, total + 200, 'every alert is either delivered or counted as dropped');
    assert.ok(counter(after, 'gatewatch_sink_alerts', { sink: 'webhook', status: 'dropped' }) > 0, 'slow webhook overflow counted');
  });

  it('an alert older than maxAge is dropped instead of retried for ever', async (t) => {
    const slack = await startFakeSlack();
    const metrics = createMetrics();
    const pipeline = createAlertPipeline(
      config({ delivery: { retryBaseMs: 50, retryMaxMs: 100, maxAgeMs: 1000 }, sinks: { stdout: { enabled: false }, slack: { url: slack.url, minSeverity: 'info' } } }),
      { metrics, logger: silentLogger() },
    );
    t.after(async () => {
      await pipeline.close(100);
      await slack.close();
    });
    slack.mode = 'error';
    pipeline.submit([secretFinding('sk-proj-AAAA1111BBBB2222CCCC3333')], exchange());
    await waitFor(async () => counter(await scrape(metrics), 'gatewatch_sink_alerts', { sink: 'slack-default', status: 'dropped' }) === 1, 5000, 'drop after max age');
    const hits = slack.hits;
    await sleep(300);
    assert.equal(slack.hits, hits, 'no more attempts');
  });

  it('close() returns by its deadline even when a sink hangs', async () => {
    const hook = await startFakeWebhook('s');
    hook.mode = 'slow';
    hook.slowMs = 10_000;
    const pipeline = createAlertPipeline(config({ sinks: { stdout: { enabled: false }, webhook: { url: hook.url, secret: 's' } } }), { metrics: createMetrics(), logger: silentLogger() });
    pipeline.submit([secretFinding('sk-proj-AAAA1111BBBB2222CCCC3333')], exchange());
    await sleep(50);
    const started = performance.now();
    await pipeline.close(300);
    assert.ok(performance.now() - started < 1500, `close took ${performance.now() - started} ms`);
    await hook.close();
  });
});
