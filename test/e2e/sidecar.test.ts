import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { startGatewatch, type Gatewatch } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { readBody, send, sleep, startUpstream, type RunningServer } from '../helpers/servers.js';

// The whole sidecar on loopback in front of a fake OpenAI upstream: traffic
// full of known secrets goes through, then every output is searched for them.

// Fake but well-formed secrets, built at run time so the repository holds none.
const AWS_ID = 'AKIA' + 'Q3EGRXV7MJ2PLZ5N';
const AWS_ID_WS = 'AKIA' + 'W4FHSYT7NK3QMA6P';
const ANTHROPIC = 'sk-ant-api03-' + 'x7Kq9Lm2Np4Rs6Tv8Wy0Zb3Cd5Fg7Hj9Kl1Mn3Pq5Rs7Tu9Vw1Xy3Za5Bc7De9Fg1Hi3Jk5Lm7No9Pq1Rs3Tu5Vw7Xy9Za1Bc3De5-abcdefAA';
const STRIPE = 'sk_live_' + '51HqLyjWDarjtT1zdp7dcXw4wL0n8QzA3bC5dE7fG9hJ2kL4mN6pQ8rS0tU';
const CLIENT_KEY = 'sk-proj-' + 'Tq3Wv5Xy7Za9Bc1De3Fg5Hi7Jk9Lm1No3Pq5Rs7Tu9Vw1Xy3Za5Bc7De9Fg1Hi3Jk5Lm';
const SECRETS = [AWS_ID, AWS_ID_WS, ANTHROPIC, STRIPE, CLIENT_KEY];
// What must never appear: the body of each secret (its public prefix may).
const BODIES = SECRETS.map((s) => s.slice(Math.max(4, s.length - 24)));

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('sidecar end to end', () => {
  let upstream: RunningServer;
  let wss: WebSocketServer;
  let gw: Gatewatch;
  const stdout = new Collector();
  const logs = new Collector();
  const streamed: string[] = [];
  let streamSocket: WebSocket;

  before(async () => {
    upstream = await startUpstream(async (req, res) => {
      const body = (await readBody(req)).toString();
      if (req.headers.authorization === 'Bearer revoked') {
        res.writeHead(401, { 'content-type': 'application/json' });
        return void res.end('{"error":{"message":"invalid api key"}}');
      }
      if (body.includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // The Stripe key leaks in the completion, split across three deltas.
        const pieces = ['Here is the key: ' + STRIPE.slice(0, 10), STRIPE.slice(10, 30), STRIPE.slice(30) + ' — keep it safe.'];
        for (const p of pieces) {
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: p } }] })}\n\n`);
          await sleep(5);
        }
        res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 } })}\n\n`);
        return void res.end('data: [DONE]\n\n');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'Noted.' } }], usage: { prompt_tokens: 40, completion_tokens: 2, total_tokens: 42 } }));
    });
    wss = new WebSocketServer({ noServer: true });
    upstream.server.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d) => ws.send(JSON.stringify({ type: 'response.output_text.done', text: `echo ${d.toString()}` })))),
    );
    const config = validateConfig({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      upstream: upstream.url,
      fingerprintKey: 'e2e-fingerprint-key-0123456789',
      alerts: { groupWindowMs: 100 },
    });
    gw = await startGatewatch(config, { stdout, logger: createLogger({ level: 'debug', destination: logs }) });
    streamSocket = new WebSocket(`ws://127.0.0.1:${gw.adminAddress.port}/api/alerts/stream`);
    streamSocket.on('message', (m) => streamed.push(m.toString()));
    await once(streamSocket, 'open');
  });

  after(async () => {
    streamSocket.close();
    await gw.close(2000);
    wss.close();
    await upstream.close();
  });

  const proxyUrl = () => `http://127.0.0.1:${gw.proxyAddress.port}`;
  const alerts = async () => JSON.parse((await send(`http://127.0.0.1:${gw.adminAddress.port}/api/alerts?limit=100`)).body.toString()) as Array<Record<string, any>>;
  const waitFor = async (predicate: (a: Array<Record<string, any>>) => boolean, what: string) => {
    for (let i = 0; i < 100; i++) {
      const list = await alerts();
      if (predicate(list)) return list;
      await sleep(30);
    }
    assert.fail(`no alert for ${what}; got ${JSON.stringify((await alerts()).map((a) => [a.detector, a.count, a.evidence]))}`);
  };

  test('a credential pasted into a prompt raises an alert that shows type, location and fingerprint only', async () => {
    const reply = await send(`${proxyUrl()}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}`, 'x-litellm-user': 'alice' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: `my aws id is ${AWS_ID} and anthropic key ${ANTHROPIC}` }] }),
    });
    assert.equal(reply.status, 200);
    const list = await waitFor((l) => l.some((a) => a.detector.includes('aws')) && l.some((a) => a.detector.includes('anthropic')), 'pasted keys');
    const aws = list.find((a) => a.detector.includes('aws'))!;
    assert.equal(aws.category, 'credential');
    assert.equal(aws.identity.user, 'alice');
    assert.match(aws.identity.key_fingerprint, /^fp:[0-9a-f]{16}$/);
    assert.match(aws.evidence[0].location, /^request\.body\.messages\[1\]\.content/);
    assert.match(aws.evidence[0].fingerprint, /^fp:/);
  });

  test('a secret split across streamed deltas is found in the completion', async () => {
    const reply = await send(`${proxyUrl()}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'what is the stripe key?' }] }),
    });
    assert.match(reply.body.toString(), /\[DONE\]/);
    await waitFor((l) => l.some((a) => a.detector.includes('stripe') && a.evidence.some((e: any) => String(e.location).startsWith('response'))), 'streamed stripe key');
  });

  test('a secret in a WebSocket message is found', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.proxyAddress.port}/v1/realtime?model=gpt-4o-realtime-preview`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    await once(ws, 'open');
    ws.send(JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `use ${AWS_ID_WS} please` }] } }));
    await once(ws, 'message');
    ws.close();
    await waitFor((l) => l.some((a) => a.detector.includes('aws') && a.evidence.some((e: any) => String(e.location).startsWith('ws'))), 'key in websocket message');
  });

  test('every output is free of every secret body', async () => {
    // let the pipeline flush what it has
    await sleep(300);
    const metrics = (await send(`http://127.0.0.1:${gw.adminAddress.port}/metrics`)).body.toString();
    const api = JSON.stringify(await alerts());
    const outputs: Record<string, string> = { stdout: stdout.text, logs: logs.text, metrics, api, stream: streamed.join('\n') };
    assert.ok(stdout.text.length > 0 && api.length > 2 && streamed.length > 0, 'the outputs were produced');
    for (const [name, text] of Object.entries(outputs)) {
      for (const body of BODIES) assert.ok(!text.includes(body), `${name} contains a secret body`);
    }
    assert.ok(!/fp:[0-9a-f]{16}/.test(metrics), 'no fingerprint in a metric label');
    assert.match(metrics, /gatewatch_requests_total\{[^}]*provider="openai"/);
    assert.match(metrics, /gatewatch_alerts_total/);
  });
});
