import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { createAlertsApi } from '../../src/admin/alerts-api.js';
import { createAlertPipeline, type AlertPipeline } from '../../src/alerts/pipeline.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { Alert } from '../../src/types.js';
import { anomalyFinding, config, exchange, secretFinding, waitFor } from './support.js';

async function startAdmin(token: string | undefined, requireToken: boolean) {
  const pipeline: AlertPipeline = createAlertPipeline(config(), { metrics: createMetrics(), logger: silentLogger() });
  const api = createAlertsApi({ pipeline, token, requireToken });
  const server: Server = createServer((req, res) => {
    if (!api.handle(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!api.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    pipeline,
    base,
    close: async () => {
      api.close();
      await pipeline.close(100);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function openStream(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; messages: unknown[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: unknown[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('alerts API', () => {
  it('serves recent alerts newest first, with a limit', async (t) => {
    const admin = await startAdmin(undefined, false);
    t.after(admin.close);
    admin.pipeline.submit([secretFinding('sk-proj-AAAA1111BBBB2222CCCC3333')], exchange());
    admin.pipeline.submit([anomalyFinding()], exchange());
    const all = (await (await fetch(`http://${admin.base}/api/alerts`)).json()) as Alert[];
    assert.deepEqual(all.map((a) => a.detector), ['anomaly.request-rate', 'credential.openai-project-key']);
    const one = (await (await fetch(`http://${admin.base}/api/alerts?limit=1`)).json()) as Alert[];
    assert.equal(one.length, 1);
    assert.equal((await fetch(`http://${admin.base}/api/alerts?limit=-3`)).status, 400);
    assert.equal((await fetch(`http://${admin.base}/api/alerts`, { method: 'POST' })).status, 405);
  });

  it('adds, lists and deletes silences', async (t) => {
    const admin = await startAdmin(undefined, false);
    t.after(admin.close);
    const post = await fetch(`http://${admin.base}/api/silences`, { method: 'POST', body: JSON.stringify({ detector: 'anomaly.*', comment: 'load test' }) });
    assert.equal(post.status, 201);
    const silence = (await post.json()) as { id: string };
    admin.pipeline.submit([anomalyFinding()], exchange());
    assert.equal(admin.pipeline.recent(10).length, 0, 'silenced');
    const list = (await (await fetch(`http://${admin.base}/api/silences`)).json()) as Array<{ id: string }>;
    assert.deepEqual(list.map((s) => s.id), [silence.id]);
    assert.equal((await fetch(`http://${admin.base}/api/silences/${silence.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(`http://${admin.base}/api/silences/${silence.id}`, { method: 'DELETE' })).status, 404);
    admin.pipeline.submit([anomalyFinding()], exchange());
    assert.equal(admin.pipeline.recent(10).length, 1);
    const bad = await fetch(`http://${admin.base}/api/silences`, { method: 'POST', body: '{}' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(await bad.json()), /at least one of detector/);
    assert.equal((await fetch(`http://${admin.base}/api/silences`, { method: 'POST', body: 'nope' })).status, 400);
    assert.equal((await fetch(`http://${admin.base}/api/silences`, { method: 'POST', body: 'x'.repeat(20000) })).status, 413);
  });

  it('streams each alert as a JSON message', async (t) => {
    const admin = await startAdmin(undefined, false);
    t.after(admin.close);
    const { ws, messages } = await openStream(`ws://${admin.base}/api/alerts/stream`);
    t.after(() => ws.close());
    await waitFor(() => admin.pipeline.stream.subscribers === 1, 2000, 'subscriber');
    admin.pipeline.submit([secretFinding('sk-proj-AAAA1111BBBB2222CCCC3333')], exchange());
    await waitFor(() => messages.length === 1, 2000, 'stream message');
    const m = messages[0] as { type: string; alert: Alert };
    assert.equal(m.type, 'firing');
    assert.equal(m.alert.detector, 'credential.openai-project-key');
  });

  it('requires the bearer token when told to', async (t) => {
    const admin = await startAdmin('admin-token-123', true);
    t.after(admin.close);
    assert.equal((await fetch(`http://${admin.base}/api/alerts`)).status, 401);
    assert.equal((await fetch(`http://${admin.base}/api/alerts`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(`http://${admin.base}/api/silences`)).status, 401);
    assert.equal((await fetch(`http://${admin.base}/api/alerts`, { headers: { authorization: 'Bearer admin-token-123' } })).status, 200);
    await assert.rejects(openStream(`ws://${admin.base}/api/alerts/stream`), /status 401/);
    const { ws } = await openStream(`ws://${admin.base}/api/alerts/stream`, { authorization: 'Bearer admin-token-123' });
    ws.close();
  });

  it('refuses everything when a token is required but none is configured', async (t) => {
    const admin = await startAdmin(undefined, true);
    t.after(admin.close);
    assert.equal((await fetch(`http://${admin.base}/api/alerts`)).status, 401);
  });

  it('leaves other paths to the admin server', async (t) => {
    const admin = await startAdmin(undefined, false);
    t.after(admin.close);
    assert.equal((await fetch(`http://${admin.base}/metrics`)).status, 404);
  });
});
