import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAlertPipeline } from '../../src/alerts/pipeline.js';
import { jitteredBackoff, parseRetryAfter } from '../../src/alerts/sinks/sink.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { startFakeWebhook } from '../helpers/fake-webhook.js';
import { config, exchange, secretFinding, waitFor } from './support.js';

describe('delivery engine', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-03-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('Sun, 01 Mar 2026 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });

  it('backs off with full jitter under a cap', () => {
    const samples = Array.from({ length: 200 }, () => jitteredBackoff(10, 100, 5000));
    assert.ok(samples.every((s) => s >= 1 && s <= 5000));
    assert.ok(new Set(samples).size > 50, 'jittered');
    assert.ok(Array.from({ length: 50 }, () => jitteredBackoff(0, 100, 5000)).every((s) => s <= 100));
  });

  it('paces deliveries to the rate limit after the burst', async (t) => {
    const hook = await startFakeWebhook('k');
    const pipeline = createAlertPipeline(config({ sinks: { stdout: { enabled: false }, webhook: { url: hook.url, secret: 'k', ratePerMinute: 60, concurrency: 4 } } }), {
      metrics: createMetrics(),
      logger: silentLogger(),
    });
    t.after(async () => {
      await pipeline.close(100);
      await hook.close();
    });
    const started = performance.now();
    for (let i = 0; i < 12; i++) pipeline.submit([secretFinding(`sk-proj-${i}AAAABBBBCCCCDDDDEEEE`)], exchange());
    await waitFor(() => hook.accepted.length === 10, 5000, 'burst of 10');
    // Paced at 60/min, ten deliveries would take 9 s; the margin is for a loaded machine.
    assert.ok(performance.now() - started < 4000, `the burst goes out at once (took ${performance.now() - started} ms)`);
    await waitFor(() => hook.accepted.length === 12, 6000, 'paced rest');
    // 60/min = one a second after the burst: timers never fire early, so this bound holds under any load.
    assert.ok(performance.now() - started >= 1900, `12 deliveries took ${performance.now() - started} ms`);
  });
});
