import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RedisStore } from '../../src/state/redis.js';
import type { Finding } from '../../src/types.js';
import { requireTool } from '../helpers/tools.js';
import { recordingLogger, recordingMetrics, waitFor } from '../state/helpers.js';
import { TestRedis } from '../state/redis-server.js';
import { harness, type Harness, MIN, T0 } from './harness.js';

// Two sidecars in front of two gateway replicas, sharing one real Redis: a
// key's traffic split between them is judged as one, an incident raises one
// finding, and Redis going away and coming back never breaks detection.

const opened: RedisStore[] = [];
let redis: TestRedis | undefined;

after(async () => {
  for (const s of opened) await s.close();
  await redis?.stop();
});

function sidecar(url: string): { h: Harness; store: RedisStore; lines: string[] } {
  const m = recordingMetrics();
  const l = recordingLogger();
  const store = new RedisStore(
    { url, keyPrefix: 'gw-test:', maxEntries: 10_000, maxBytes: 1 << 24, commandTimeoutMs: 200, connectTimeoutMs: 500, retryAfterMs: 100, ttlMs: 3_600_000 },
    { metrics: m.metrics, logger: l.logger },
  );
  opened.push(store);
  return { h: harness({ store, only: ['anomaly.many-ips', 'anomaly.auth-failures-ip'] }), store, lines: l.lines };
}

/** Sends `n` requests alternately through the two sidecars; returns all findings. */
async function split(a: Harness, b: Harness, start: number, n: number, fields: (i: number) => Parameters<Harness['send']>[1]): Promise<Finding[]> {
  const out: Finding[] = [];
  for (let i = 0; i < n; i++) out.push(...(await (i % 2 ? b : a).send(start + i * 1000, fields(i))));
  return out;
}

test('two sidecars share baselines and cooldowns through Redis, and survive Redis stopping and restarting', async (t) => {
  const bin = requireTool(t, 'redis-server', 'apt-get install redis-server (or bash .ci/install-redis.sh)');
  if (!bin) return;
  redis = await TestRedis.start(bin);
  const A = sidecar(redis.url);
  const B = sidecar(redis.url);
  assert.equal(await A.store.ready(), true);
  assert.equal(await B.store.ready(), true);

  // 14 IPs for one key, 7 seen by each sidecar: only the shared view sees 12.
  const spread = await split(A.h, B.h, T0, 14, (i) => ({ identity: { keyFingerprint: 'fp:00000000000000a1', clientIp: `203.0.113.${i}` } }));
  assert.equal(spread.length, 1, 'one finding for one incident across both sidecars');
  assert.match(spread[0]!.summary!, /used from 12 client IPs/);

  // Credential stuffing from one IP, split across the sidecars.
  const stuffing = await split(A.h, B.h, T0 + 10 * MIN, 24, (i) => ({ status: 401, identity: { clientIp: '192.0.2.9', keyFingerprint: `fp:${String(i).padStart(16, '0')}` } }));
  assert.equal(stuffing.length, 1);

  // Redis goes away: detection goes on from local state, promptly, without errors.
  await redis.stop();
  const started = performance.now();
  const local = [];
  for (let i = 0; i < 14; i++) local.push(...(await A.h.send(T0 + 20 * MIN + i * 1000, { identity: { keyFingerprint: 'fp:00000000000000a2', clientIp: `198.51.100.${i}` } })));
  assert.ok(performance.now() - started < 3000, `took ${performance.now() - started} ms`);
  assert.equal(local.length, 1, 'the sidecar still detects on its own');
  await waitFor(() => A.store.backend() === 'memory');
  assert.ok(A.lines.some((l) => l.includes('Redis unreachable')));

  // Redis is back (empty): shared again.
  await redis.start();
  assert.equal(await A.store.ready(10_000), true);
  assert.equal(await B.store.ready(10_000), true);
  const again = await split(A.h, B.h, T0 + 40 * MIN, 14, (i) => ({ identity: { keyFingerprint: 'fp:00000000000000a3', clientIp: `100.64.0.${i}` } }));
  assert.equal(again.length, 1);
  assert.equal(A.store.backend(), 'redis');
  assert.equal(B.store.backend(), 'redis');
});
