import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createAlertPipeline } from '../../src/alerts/pipeline.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { Alert } from '../../src/types.js';
import { requireTool } from '../helpers/tools.js';
import { freePort } from './collector.js';
import { config, counter, exchange, fingerprint, scrape, secretFinding, TextCollector, waitFor } from './support.js';

const KEY = 'sk-proj-RRRR1111EEEE2222DDDD3333IIII4444';

async function startRedis(bin: string, port: number): Promise<ChildProcess> {
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }),
    5000,
    'redis-server',
  );
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function replica(redisUrl: string) {
  const out = new TextCollector();
  const metrics = createMetrics();
  const pipeline = createAlertPipeline(config({ redisUrl, redisTimeoutMs: 200, sinks: { stdout: { enabled: true } } }), { metrics, logger: silentLogger(), stdout: out });
  return { pipeline, metrics, firing: () => (out.lines() as Array<{ alert_status: string; alert: Alert }>).filter((l) => l.alert_status === 'firing') };
}

describe('cross-replica dedup through Redis', () => {
  it('two replicas seeing the same incident alert once; Redis holds only hashed keys; Redis down falls back to local dedup', async (t) => {
    const bin = requireTool(t, 'redis-server', 'apt-get install redis-server');
    if (!bin) return;
    const port = await freePort();
    const redis = await startRedis(bin, port);
    t.after(() => stopRedis(redis));
    const url = `redis://127.0.0.1:${port}`;
    const a = replica(url);
    const b = replica(url);
    t.after(async () => {
      await a.pipeline.close(100);
      await b.pipeline.close(100);
    });

    const ex = exchange();
    a.pipeline.submit([secretFinding(KEY)], ex);
    await waitFor(() => a.firing().length === 1, 3000, 'replica A fires');
    b.pipeline.submit([secretFinding(KEY)], ex);
    await waitFor(async () => counter(await scrape(b.metrics), 'gatewatch_sink_alerts', { sink: 'pipeline', status: 'suppressed' }) === 1, 3000, 'replica B suppressed');
    assert.equal(b.firing().length, 0);

    // A different incident on B fires on B.
    b.pipeline.submit([secretFinding(`${KEY}-other`)], ex);
    await waitFor(() => b.firing().length === 1, 3000, 'replica B fires its own incident');

    const client = new Redis(url);
    const keys = await client.keys('*');
    client.disconnect();
    assert.equal(keys.length, 2);
    for (const k of keys) {
      assert.match(k, /^gatewatch:alert:[0-9a-f]{32}$/);
      assert.ok(!k.includes(fingerprint(KEY).slice(3)));
    }

    await stopRedis(redis);
    const started = performance.now();
    a.pipeline.submit([secretFinding(`${KEY}-after-redis`)], ex);
    await waitFor(() => a.firing().length === 2, 3000, 'fallback to local dedup');
    assert.ok(performance.now() - started < 1500, 'fallback is quick');
    assert.ok(counter(await scrape(a.metrics), 'gatewatch_state_errors', { backend: 'redis' }) >= 1);
  });
});
