import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { send, sleep } from '../helpers/servers.js';
import { requireTool } from '../helpers/tools.js';
import { TestRedis } from '../state/redis-server.js';
import {
  assertNoLeak,
  closedPort,
  fakeAwsId,
  metricSum,
  PROBE_PATH,
  secretBody,
  startRecordingUpstream,
  startSidecar,
  waitForSecretAlert,
  closeLeftovers,
} from './support.js';

after(closeLeftovers);

// Faults around the sidecar: upstreams that reset or never answer, clients
// that leave mid-stream, Redis killed and restarted, a dead collector and a
// dead Slack. Traffic must keep flowing and nothing may leak.

const json = { 'content-type': 'application/json' };
const chat = (content: string, stream = false) => JSON.stringify({ model: 'gpt-4o', stream, messages: [{ role: 'user', content }] });

/** Streams a response and reports what arrived and whether it ended cleanly. */
function readStream(url: string, body: string, onFirstChunk?: (destroy: () => void) => void): Promise<{ status: number; data: string; clean: boolean }> {
  return new Promise((resolve) => {
    let data = '';
    let status = 0;
    const req = request(url, { method: 'POST', agent: false, headers: json }, (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (data === '' && onFirstChunk) onFirstChunk(() => req.destroy());
        data += c;
      });
      res.on('end', () => resolve({ status, data, clean: true }));
      res.on('error', () => resolve({ status, data, clean: false }));
      res.on('aborted', () => resolve({ status, data, clean: false }));
    });
    req.on('error', () => resolve({ status, data, clean: false }));
    req.on('close', () => setTimeout(() => resolve({ status, data, clean: false }), 100));
    req.end(body);
  });
}

test('an upstream that resets mid-stream: the client sees the cut, the secret before it is still found', { timeout: 60_000 }, async () => {
  const key = fakeAwsId();
  const upstream = await startRecordingUpstream((_r, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `the key is ${key} ` } }] })}\n\n`);
    setTimeout(() => res.socket?.resetAndDestroy(), 50);
  });
  const sidecar = await startSidecar(upstream.url);
  try {
    const out = await readStream(`${sidecar.url}/v1/chat/completions`, chat('stream', true));
    assert.equal(out.status, 200);
    assert.equal(out.clean, false, 'a cut stream must not look complete to the client');
    assert.ok(out.data.includes(key.slice(0, 8)));
    await waitForSecretAlert(sidecar, key, 'a stream cut by the upstream');
    assert.equal((await send(`${sidecar.url}${PROBE_PATH}`)).status, 200);
    await assertNoLeak(sidecar, [key]);
  } finally {
    await sidecar.close();
    await upstream.close();
  }
});

test('an upstream that never answers: 504 after the upstream timeout, other requests unaffected', { timeout: 60_000 }, async () => {
  const upstream = await startRecordingUpstream((r, res) => {
    if (r.url === '/hang') return; // never answers
    res.end('{}');
  });
  const sidecar = await startSidecar(upstream.url, { proxy: { upstreamTimeoutMs: 400 } });
  try {
    const hanging = Array.from({ length: 20 }, () => send(`${sidecar.url}/hang`, { method: 'POST', headers: json, body: chat('hello') }));
    const started = performance.now();
    for (let i = 0; i < 10; i++) assert.equal((await send(`${sidecar.url}/ok`)).status, 200);
    assert.ok(performance.now() - started < 1000, 'requests beside the hanging ones are served at once');
    for (const r of await Promise.all(hanging)) {
      assert.equal(r.status, 504);
      assert.equal(JSON.parse(r.body.toString()).error.code, 'timeout');
    }
  } finally {
    await sidecar.close();
    await upstream.close();
  }
});

test('a client that disconnects mid-stream frees the upstream side and the connection count', { timeout: 60_000 }, async () => {
  let upstreamClosed = 0;
  const upstream = await startRecordingUpstream((_r, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => res.write('data: {"choices":[{"index":0,"delta":{"content":"tick"}}]}\n\n'), 10);
    res.on('close', () => {
      clearInterval(timer);
      upstreamClosed++;
    });
  });
  const sidecar = await startSidecar(upstream.url);
  try {
    const runs = await Promise.all(Array.from({ length: 10 }, () => readStream(`${sidecar.url}/v1/chat/completions`, chat('stream', true), (destroy) => setTimeout(destroy, 30))));
    for (const r of runs) assert.equal(r.clean, false);
    for (let i = 0; i < 100 && upstreamClosed < 10; i++) await sleep(20);
    assert.equal(upstreamClosed, 10, 'every upstream stream was closed after its client left');
    await sleep(100);
    const metrics = (await send(`${sidecar.adminUrl}/metrics`)).body.toString();
    assert.equal(metricSum(metrics, 'gatewatch_active_connections', 'kind="http"'), 0, 'no connection is counted as open');
    assert.equal((await send(`${sidecar.url}${PROBE_PATH}`)).status, 200);
  } finally {
    await sidecar.close();
    await upstream.close();
  }
});

test('Redis killed and restarted: traffic and alerts go on, and Redis never holds a secret', { timeout: 60_000 }, async (t) => {
  const bin = requireTool(t, 'redis-server', 'apt-get install redis-server, or .ci/install-redis.sh');
  if (!bin) return;
  const redis = await TestRedis.start(bin);
  const upstream = await startRecordingUpstream();
  const sidecar = await startSidecar(upstream.url, { state: { redisUrl: redis.url }, alerts: { redisUrl: redis.url } });
  const keys: string[] = [];
  const leak = async (phase: string) => {
    const key = fakeAwsId();
    keys.push(key);
    const started = performance.now();
    const r = await send(`${sidecar.url}/v1/chat/completions`, { method: 'POST', headers: { ...json, authorization: `Bearer sk-proj-${phase}${'x'.repeat(40)}` }, body: chat(`creds ${key}`) });
    assert.equal(r.status, 200, `traffic flows (${phase})`);
    assert.ok(performance.now() - started < 1000, `no request waits for Redis (${phase})`);
    await waitForSecretAlert(sidecar, key, `a prompt (${phase})`);
  };
  try {
    await leak('redis-up');
    await redis.stop();
    for (let i = 0; i < 3; i++) await leak(`redis-down-${i}`);
    const down = (await send(`${sidecar.adminUrl}/metrics`)).body.toString();
    assert.ok(metricSum(down, 'gatewatch_state_errors') > 0 || /gatewatch_state_backend\{[^}]*memory[^}]*\} 1/.test(down), 'losing Redis shows in a metric');
    await redis.start();
    await sleep(1500);
    for (let i = 0; i < 3; i++) await leak(`redis-back-${i}`);

    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    try {
      const names = await client.keys('*');
      assert.ok(names.length > 0, 'the sidecar wrote to Redis after it came back');
      for (const name of names) {
        const dump = (await client.dumpBuffer(name)) ?? Buffer.alloc(0);
        const text = name + dump.toString('latin1');
        for (const k of keys) assert.ok(!text.includes(secretBody(k)), `Redis key ${name} holds a secret body`);
      }
    } finally {
      client.disconnect();
    }
    await assertNoLeak(sidecar, keys);
  } finally {
    await sidecar.close();
    await upstream.close();
    await redis.stop();
  }
});

test('a dead collector and a dead Slack: traffic unaffected, failures counted, shutdown within its deadline', { timeout: 60_000 }, async () => {
  const upstream = await startRecordingUpstream();
  const slackPort = await closedPort();
  const otlpPort = await closedPort();
  const sidecar = await startSidecar(
    upstream.url,
    { alerts: { sinks: { slack: { url: `http://127.0.0.1:${slackPort}/services/T000/B000/XXXX`, minSeverity: 'info' } }, delivery: { retryBaseMs: 100, timeoutMs: 500 } } },
    { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_METRIC_EXPORT_INTERVAL: '300', OTEL_METRIC_EXPORT_TIMEOUT: '200' },
  );
  const keys: string[] = [];
  let closed = false;
  try {
    const started = performance.now();
    for (let i = 0; i < 30; i++) {
      const key = fakeAwsId();
      keys.push(key);
      const r = await send(`${sidecar.url}/v1/chat/completions`, { method: 'POST', headers: json, body: chat(`leak ${i}: ${key}`) });
      assert.equal(r.status, 200);
    }
    assert.ok(performance.now() - started < 3000, `30 requests took ${performance.now() - started} ms with every sink dead`);
    await waitForSecretAlert(sidecar, keys.at(-1)!, 'a prompt while Slack and the collector are down');
    await sleep(600);
    const metrics = (await send(`${sidecar.adminUrl}/metrics`)).body.toString();
    assert.ok(metricSum(metrics, 'gatewatch_sink_alerts', 'sink="slack') > 0, 'Slack deliveries are counted');
    assert.ok(/gatewatch_sink_alerts_total\{[^}]*sink="slack[^"]*"[^}]*status="(error|retried|dropped)"/.test(metrics), 'failed Slack deliveries are counted as such');
    await assertNoLeak(sidecar, keys);
    const closing = performance.now();
    await sidecar.close();
    closed = true;
    assert.ok(performance.now() - closing < 4000, `close(2000) took ${performance.now() - closing} ms with dead sinks`);
  } finally {
    if (!closed) await sidecar.close();
    await upstream.close();
  }
});
