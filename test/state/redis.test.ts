import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MemoryStore } from '../../src/state/memory.js';
import { RedisStore, type RedisStoreOptions } from '../../src/state/redis.js';
import type { SeriesOptions } from '../../src/state/types.js';
import { requireTool } from '../helpers/tools.js';
import { recordingLogger, recordingMetrics, waitFor } from './helpers.js';
import { TestRedis } from './redis-server.js';

// The Redis store against a real redis-server: its Lua scripts must give the
// same answers as the in-memory records, two stores must share one view, and
// losing Redis must fall back to local state and come back.

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5);
const series: SeriesOptions = { bucketMs: MIN, alpha: 0.01, peakDecay: 0.999 };

let redis: TestRedis | undefined;
const stores: RedisStore[] = [];

function storeOpts(url: string, keyPrefix: string): RedisStoreOptions {
  return { url, keyPrefix, maxEntries: 10_000, maxBytes: 1 << 24, commandTimeoutMs: 200, connectTimeoutMs: 500, retryAfterMs: 100, ttlMs: 3_600_000 };
}

function open(prefix: string) {
  const m = recordingMetrics();
  const l = recordingLogger();
  const store = new RedisStore(storeOpts(redis!.url, prefix), { metrics: m.metrics, logger: l.logger });
  stores.push(store);
  return { store, ...m, ...l };
}

before(async () => {
  const bin = findRedis();
  if (bin) redis = await TestRedis.start(bin);
});

after(async () => {
  for (const s of stores) await s.close();
  await redis?.stop();
});

let skipReason: string | undefined;
function findRedis(): string | undefined {
  const ctx = { skip: (m?: string) => (skipReason = m) };
  return requireTool(ctx, 'redis-server', 'apt-get install redis-server (or bash .ci/install-redis.sh)');
}

test('Lua scripts answer exactly like the in-memory records', async (t) => {
  if (!redis) return t.skip(skipReason);
  const { store } = open('parity:');
  assert.equal(await store.ready(), true);
  const mem = new MemoryStore({ maxEntries: 10_000, maxBytes: 1 << 24 });
  let x = 7;
  const rand = () => ((x = (x * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < 300; i++) {
    const now = T0 + Math.floor(i * 37_000 + rand() * 30_000) + (i === 200 ? 90 * MIN : 0) + (i > 200 ? 90 * MIN : 0);
    const v = [Math.floor(rand() * 5), rand() * 3];
    const a = await store.series('s', 'f', v, now, series);
    const b = await mem.series('s', 'f', v, now, series);
    assert.equal(a.first, b.first);
    for (let k = 0; k < 2; k++) {
      for (const f of ['window', 'mean', 'std', 'peak'] as const) {
        assert.ok(Math.abs(a[f](k) - b[f](k)) <= 1e-9 * Math.max(1, Math.abs(b[f](k))), `${f}[${k}] at ${i}: ${a[f](k)} vs ${b[f](k)}`);
      }
    }
    const member = `m${Math.floor(rand() * 6)}`;
    const da = await store.distinct('d', 'f', member, now, { windowMs: 10 * MIN, maxMembers: 4 });
    const db = await mem.distinct('d', 'f', member, now, { windowMs: 10 * MIN, maxMembers: 4 });
    assert.deepEqual(da, db, `distinct at ${i}`);
    const pa = await store.profile('p', 'f', now + i * 400_000);
    const pb = await mem.profile('p', 'f', now + i * 400_000);
    assert.deepEqual(
      [pa.first, pa.currentCount, pa.currentHourOfWeek, pa.activeHours(), ...Array.from({ length: 168 }, (_, h) => pa.hour(h))],
      [pb.first, pb.currentCount, pb.currentHourOfWeek, pb.activeHours(), ...Array.from({ length: 168 }, (_, h) => pb.hour(h))],
      `profile at ${i}`,
    );
    const x2 = rand() * 10;
    const sa = await store.sample('v', 'f', x2, { alpha: 0.05 });
    const sb = await mem.sample('v', 'f', x2, { alpha: 0.05 });
    assert.deepEqual(sa, sb);
  }
  // Weekly traffic in one hour until its four-bit counter saturates and the profile halves.
  for (let w = 0; w < 17; w++) {
    for (const h of [3, 4, 30]) {
      const now = T0 + w * 7 * 86_400_000 + h * 3_600_000;
      const pa = await store.profile('weekly', 'f', now);
      const pb = await mem.profile('weekly', 'f', now);
      assert.deepEqual([pa.currentHourOfWeek, pa.hour(3), pa.hour(30), pa.activeHours()], [pb.currentHourOfWeek, pb.hour(3), pb.hour(30), pb.activeHours()], `week ${w}`);
    }
  }
  assert.equal(store.backend(), 'redis');
});

test('two sidecars share one view of an identity', async (t) => {
  if (!redis) return t.skip(skipReason);
  const a = open('share:');
  const b = open('share:');
  assert.equal(await a.store.ready(), true);
  assert.equal(await b.store.ready(), true);
  for (let i = 0; i < 10; i++) {
    await (i % 2 ? a.store : b.store).series('key:fp:1', 'f', [1], T0 + i * 1000, series);
  }
  const seen = await a.store.series('key:fp:1', 'f', [0], T0 + 11_000, series);
  assert.equal(seen.window(0), 10);
  assert.equal((await a.store.distinct('ips', 'f', '10.0.0.1', T0, { windowMs: MIN, maxMembers: 8 })).isNew, true);
  assert.equal((await b.store.distinct('ips', 'f', '10.0.0.1', T0 + 1, { windowMs: MIN, maxMembers: 8 })).isNew, false);
  // One claim across both sidecars.
  assert.equal(await a.store.claim('cd', 'f', T0, MIN), true);
  assert.equal(await b.store.claim('cd', 'f', T0 + 1, MIN), false);
});

test('Redis stopped mid-run: local state, a metric, a log line; restarted: shared again, seeded from local', async (t) => {
  if (!redis) return t.skip(skipReason);
  const a = open('outage:');
  assert.equal(await a.store.ready(), true);
  assert.equal(a.backend.get('redis'), 1);
  for (let i = 0; i < 5; i++) await a.store.series('key:fp:2', 'f', [1], T0 + i * 1000, series);

  await redis.stop();
  const started = performance.now();
  // Every call answers promptly from local state, which kept counting.
  let last;
  for (let i = 5; i < 8; i++) last = await a.store.series('key:fp:2', 'f', [1], T0 + i * 1000, series);
  assert.ok(performance.now() - started < 2000, 'calls must not wait on a dead Redis');
  assert.equal(last!.window(0), 8);
  await waitFor(() => a.store.backend() === 'memory');
  assert.equal(a.backend.get('redis'), 0);
  assert.equal(a.backend.get('memory'), 1);
  assert.ok(a.lines.some((l) => l.includes('Redis unreachable')), a.lines.join('\n'));

  await redis.start();
  await waitFor(() => a.store.backend() === 'redis' || (a.store as RedisStore).backend() === 'redis', 10_000).catch(() => undefined);
  assert.equal(await a.store.ready(5000), true);
  // Redis restarted empty; the first write seeds it from the local copy.
  const after = await a.store.series('key:fp:2', 'f', [1], T0 + 9000, series);
  assert.equal(a.store.backend(), 'redis');
  assert.equal(after.window(0), 9);
  assert.equal(after.first, T0);
  assert.ok(a.lines.some((l) => l.includes('using shared state')));
  const other = open('outage:');
  assert.equal(await other.store.ready(), true);
  assert.equal((await other.store.series('key:fp:2', 'f', [0], T0 + 9500, series)).window(0), 9);
});

test('an unreachable Redis from the start never blocks and counts errors only when tried', async () => {
  const m = recordingMetrics();
  const l = recordingLogger();
  const store = new RedisStore(storeOpts('redis://127.0.0.1:1', 'none:'), { metrics: m.metrics, logger: l.logger });
  stores.push(store);
  const startedAt = performance.now();
  const s = await store.series('k', 'f', [1], T0, series);
  assert.ok(performance.now() - startedAt < 200);
  assert.equal(s.window(0), 1);
  assert.equal(store.backend(), 'memory');
  assert.equal(m.backend.get('memory'), 1);
});
