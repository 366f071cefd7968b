import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAlertPipeline } from '../../src/alerts/pipeline.js';
import { signWebhook, verifyWebhookSignature } from '../../src/alerts/sinks/webhook.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { startFakeWebhook } from '../helpers/fake-webhook.js';
import { config, counter, exchange, scrape, secretFinding, waitFor } from './support.js';

const SECRET = 'whsec-test-0123456789';
const KEY = 'sk-proj-QQQQ1111RRRR2222SSSS3333TTTT4444';

describe('webhook signature', () => {
  it('verifies a good signature and refuses tampering, wrong secrets and stale timestamps', () => {
    const now = Date.parse('2026-03-01T00:00:00Z');
    const ts = Math.floor(now / 1000);
    const body = '{"type":"firing","alert":{}}';
    const sig = signWebhook(SECRET, ts, body);
    assert.match(sig, /^sha256=[0-9a-f]{64}$/);
    assert.ok(verifyWebhookSignature(SECRET, String(ts), body, sig, now));
    assert.ok(!verifyWebhookSignature(SECRET, String(ts), body.replace('firing', 'resolved'), sig, now));
    assert.ok(!verifyWebhookSignature('other-secret', String(ts), body, sig, now));
    assert.ok(!verifyWebhookSignature(SECRET, String(ts), body, sig, now + 301_000), 'replay after 5 minutes');
    assert.ok(!verifyWebhookSignature(SECRET, undefined, body, sig, now));
    assert.ok(!verifyWebhookSignature(SECRET, String(ts), body, 'sha256=00', now));
  });
});

describe('webhook sink against a verifying receiver', () => {
  it('delivers signed JSON with the alert', async (t) => {
    const hook = await startFakeWebhook(SECRET);
    const metrics = createMetrics();
    const pipeline = createAlertPipeline(config({ sinks: { stdout: { enabled: false }, webhook: { url: hook.url, secret: SECRET } } }), { metrics, logger: silentLogger() });
    t.after(async () => {
      await pipeline.close(200);
      await hook.close();
    });
    pipeline.submit([secretFinding(KEY)], exchange());
    await waitFor(() => hook.accepted.length === 1, 3000, 'delivery');
    const d = hook.deliveries[0]!;
    assert.ok(d.valid);
    assert.match(String(d.headers['x-gatewatch-timestamp']), /^\d+$/);
    const body = d.json as { type: string; alert: { detector: string; evidence: Array<{ fingerprint: string }> } };
    assert.equal(body.type, 'firing');
    assert.equal(body.alert.detector, 'credential.openai-project-key');
    assert.ok(!d.body.includes(KEY.slice(8)));
    assert.equal(counter(await scrape(metrics), 'gatewatch_sink_alerts', { sink: 'webhook', status: 'ok' }), 1);
  });

  it('a receiver with the wrong secret refuses the delivery (counted as error, not retried)', async (t) => {
    const hook = await startFakeWebhook('not-the-same-secret');
    const metrics = createMetrics();
    const pipeline = createAlertPipeline(config({ sinks: { stdout: { enabled: false }, webhook: { url: hook.url, secret: SECRET } } }), { metrics, logger: silentLogger() });
    t.after(async () => {
      await pipeline.close(200);
      await hook.close();
    });
    pipeline.submit([secretFinding(KEY)], exchange());
    await waitFor(async () => counter(await scrape(metrics), 'gatewatch_sink_alerts', { sink: 'webhook', status: 'error' }) === 1, 3000, 'error count');
    assert.equal(hook.deliveries.length, 1);
    assert.equal(hook.deliveries[0]!.valid, false);
  });

  it('a slow webhook does not slow submit; deliveries run with limited concurrency', async (t) => {
    const hook = await startFakeWebhook(SECRET);
    hook.mode = 'slow';
    hook.slowMs = 300;
    const pipeline = createAlertPipeline(
      config({ sinks: { stdout: { enabled: false }, webhook: { url: hook.url, secret: SECRET, concurrency: 2, ratePerMinute: 60000 } } }),
      { metrics: createMetrics(), logger: silentLogger() },
    );
    t.after(async () => {
      await pipeline.close(200);
      await hook.close();
    });
    const started = process.hrtime.bigint();
    for (let i = 0; i < 6; i++) pipeline.submit([secretFinding(`${KEY}${i}`)], exchange());
    const submitMs = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(submitMs < 50, `submit took ${submitMs} ms`);
    await waitFor(() => hook.accepted.length === 6, 5000, 'six deliveries');
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(elapsed >= 850, `6 × 300 ms at concurrency 2 takes ≥ 900 ms, took ${elapsed}`);
  });
});
