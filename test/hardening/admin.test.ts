import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WebSocket } from 'ws';
import { validateConfig } from '../../src/config/load.js';
import { send, sleep } from '../helpers/servers.js';
import { closeLeftovers, fakeAwsId, fakeGithubToken, fakeOpenAiProjectKey, secretBody, startRecordingUpstream, startSidecar, waitForSecretAlert } from './support.js';

// The admin surface: loopback by default; off loopback the alerts API and
// stream need the token; /metrics never carries a secret, a fingerprint or
// prompt text in a label.

after(closeLeftovers);

/** Opens the alerts stream; resolves with the upgrade outcome (the HTTP status when refused). */
function openStream(port: number, headers: Record<string, string> = {}): Promise<{ opened: boolean; status?: number; ws: WebSocket }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/alerts/stream`, { headers });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ opened: true, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? 0, ws });
      res.resume();
    });
    ws.once('error', () => resolve({ opened: false, ws }));
  });
}

test('the admin listener binds loopback by default', () => {
  const config = validateConfig({});
  assert.match(config.admin, /^127\.0\.0\.1:\d+$/);
});

test('on loopback without a token, the alerts API and stream answer', async () => {
  const upstream = await startRecordingUpstream();
  const sidecar = await startSidecar(upstream.url);
  try {
    assert.equal(sidecar.gw.adminAddress.host, '127.0.0.1');
    assert.equal((await send(`${sidecar.adminUrl}/api/alerts`)).status, 200);
    const stream = await openStream(sidecar.gw.adminAddress.port);
    assert.equal(stream.opened, true);
    stream.ws.close();
  } finally {
    await sidecar.close();
    await upstream.close();
  }
});

test('off loopback without a token configured, the alerts API and stream refuse everyone; health and metrics answer', async () => {
  const upstream = await startRecordingUpstream();
  const sidecar = await startSidecar(upstream.url, { admin: '0.0.0.0:0' });
  const port = sidecar.gw.adminAddress.port;
  try {
    assert.equal(sidecar.gw.adminAddress.host, '0.0.0.0');
    for (const auth of [undefined, 'Bearer ', 'Bearer anything', 'Basic YWRtaW46YWRtaW4=']) {
      const r = await send(`http://127.0.0.1:${port}/api/alerts?limit=5`, { headers: auth ? { authorization: auth } : {} });
      assert.equal(r.status, 401, `alerts API with ${auth ?? 'no'} authorization`);
      assert.equal((await send(`http://127.0.0.1:${port}/api/silences`, { headers: auth ? { authorization: auth } : {} })).status, 401);
      const stream = await openStream(port, auth ? { authorization: auth } : {});
      assert.equal(stream.opened, false, 'the stream refuses');
      stream.ws.terminate();
    }
    assert.equal((await send(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal((await send(`http://127.0.0.1:${port}/metrics`)).status, 200);
  } finally {
    await sidecar.close();
    await upstream.close();
  }
});

test('off loopback with a token, only that bearer token opens the alerts API and stream', async () => {
  const token = 'admin-token-' + 'q7Lx2Vn9Pd4Rs8Tw';
  const upstream = await startRecordingUpstream();
  const sidecar = await startSidecar(upstream.url, { admin: '0.0.0.0:0', adminToken: token });
  const port = sidecar.gw.adminAddress.port;
  try {
    for (const wrong of [undefined, `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `Bearer  ${token} extra`, token]) {
      const r = await send(`http://127.0.0.1:${port}/api/alerts`, { headers: wrong ? { authorization: wrong } : {} });
      assert.equal(r.status, 401, `refused with ${wrong === undefined ? 'no header' : 'a wrong header'}`);
      const stream = await openStream(port, wrong ? { authorization: wrong } : {});
      assert.equal(stream.opened, false);
      stream.ws.terminate();
    }
    const ok = await send(`http://127.0.0.1:${port}/api/alerts`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(JSON.parse(ok.body.toString())));
    const stream = await openStream(port, { authorization: `Bearer ${token}` });
    assert.equal(stream.opened, true);
    stream.ws.close();
    // The token is never echoed anywhere.
    assert.ok(!sidecar.logs.text.includes(token));
  } finally {
    await sidecar.close();
    await upstream.close();
  }
});

test('/metrics carries no secret, fingerprint or prompt text in any label, even when clients put them in label-like places', async () => {
  const upstream = await startRecordingUpstream((r, res) => {
    const model = (JSON.parse(r.body.toString() || '{}') as { model?: string }).model ?? 'm';
    const text = JSON.stringify({ model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  });
  const sidecar = await startSidecar(upstream.url);
  const marker = 'zebra' + 'quokka' + 'promptmarker';
  const secrets = [fakeAwsId(), fakeGithubToken(), fakeOpenAiProjectKey()];
  try {
    for (const [i, s] of secrets.entries()) {
      const bodies = [
        { model: 'gpt-4o', messages: [{ role: 'user', content: `${marker} ${s}` }] },
        { model: s, messages: [{ role: 'user', content: marker }] },
        { model: `${marker}-${i}`, messages: [{ role: 'user', content: 'hi' }] },
      ];
      for (const b of bodies) {
        const r = await send(`${sidecar.url}/v1/chat/completions/${marker}${i}?key=${s}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${s}`, 'x-litellm-user': `${marker}-user`, 'user-agent': `${marker}/${s}` },
          body: JSON.stringify(b),
        });
        assert.equal(r.status, 200);
      }
    }
    await waitForSecretAlert(sidecar, secrets[0]!, 'a prompt');
    await sleep(200);
    const metrics = (await send(`${sidecar.adminUrl}/metrics`)).body.toString();
    const labels = [...metrics.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
    assert.ok(labels.length > 10, 'there are labelled series to check');
    for (const label of labels) {
      assert.ok(!/fp:[0-9a-f]/.test(label), `a fingerprint in a label: ${label.slice(0, 120)}`);
      assert.ok(!label.includes(marker), `prompt or client text in a label: ${label.slice(0, 120)}`);
      for (const s of secrets) assert.ok(!label.includes(secretBody(s)), `a secret in a label: ${label.slice(0, 40)}…`);
    }
    for (const s of secrets) assert.ok(!metrics.includes(secretBody(s)), 'a secret anywhere in /metrics');
  } finally {
    await sidecar.close();
    await upstream.close();
  }
});
