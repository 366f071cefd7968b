import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { startUpstream, type RunningServer } from '../helpers/servers.js';
import { startTestProxy, type TestProxy } from './harness.js';

describe('WebSocket relay', () => {
  let upstream: RunningServer;
  let wss: WebSocketServer;
  let proxy: TestProxy;
  const handshakes: Array<{ url: string; headers: Record<string, unknown> }> = [];

  before(async () => {
    upstream = await startUpstream((_req, res) => res.end('http'));
    wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (protocols) => (protocols.has('realtime') ? 'realtime' : false),
    });
    upstream.server.on('upgrade', (req, socket, head) => {
      if (req.url?.startsWith('/refuse')) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n{"error":"invalid_api_key"}'.replace('26', '27'));
        return;
      }
      handshakes.push({ url: req.url ?? '', headers: req.headers });
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data, isBinary) => {
          const text = data.toString();
          if (text === 'close-4001') return ws.close(4001, 'custom reason');
          ws.send(isBinary ? data : `echo:${text}`, { binary: isBinary });
        });
      });
    });
    proxy = await startTestProxy(upstream.url);
  });
  after(async () => {
    wss.close();
    await proxy.close();
    await upstream.close();
  });

  const connect = async (path: string, protocols: string[] = [], headers: Record<string, string> = {}) => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}${path}`, protocols, { headers });
    await once(ws, 'open');
    return ws;
  };

  test('X-Forwarded-For, -Port, -Proto and -Host as on an HTTP request, with ws as the protocol', async () => {
    const ws = await connect('/v1/realtime', [], { 'x-forwarded-for': '203.0.113.7' });
    const hs = handshakes.at(-1)!;
    assert.equal(hs.headers['x-forwarded-for'], '203.0.113.7,127.0.0.1');
    assert.equal(hs.headers['x-forwarded-proto'], 'ws');
    assert.equal(hs.headers['x-forwarded-port'], String(proxy.port));
    assert.equal(hs.headers['x-forwarded-host'], `127.0.0.1:${proxy.port}`);
    ws.close();
    await once(ws, 'close');
  });

  test('text and binary messages both ways, subprotocol and headers passed, messages captured', async () => {
    const ws = await connect('/v1/realtime?model=gpt-4o-realtime-preview', ['realtime', 'openai-beta.realtime-v1'], {
      authorization: 'Bearer sk-test-realtime',
    });
    assert.equal(ws.protocol, 'realtime');
    const hs = handshakes.at(-1)!;
    assert.equal(hs.url, '/v1/realtime?model=gpt-4o-realtime-preview');
    assert.equal(hs.headers.authorization, 'Bearer sk-test-realtime');
    assert.equal(hs.headers['x-forwarded-for'], '127.0.0.1');

    const replies: Array<{ data: Buffer; binary: boolean }> = [];
    ws.on('message', (data, binary) => replies.push({ data: data as Buffer, binary }));
    ws.send('{"type":"conversation.item.create","item":{"content":[{"type":"input_text","text":"hello"}]}}');
    ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    while (replies.length < 2) await once(ws, 'message');
    assert.equal(replies[0]!.binary, false);
    assert.match(replies[0]!.data.toString(), /^echo:\{"type":"conversation.item.create"/);
    assert.equal(replies[1]!.binary, true);
    assert.deepEqual([...replies[1]!.data], [0, 1, 2, 255]);

    ws.close(1000, 'bye');
    await once(ws, 'close');
    const c = await proxy.nextCapture();
    assert.equal(c.kind, 'websocket');
    assert.equal(c.status, 101);
    assert.ok(c.wsMessages.some((m) => m.direction === 'client' && !m.binary && m.text.startsWith('{"type":"conversation.item.create"')));
    assert.ok(c.wsMessages.some((m) => m.direction === 'upstream' && m.text.startsWith('echo:')));
    assert.equal(c.wsMessages.filter((m) => m.binary).length, 2);
  });

  test('ping from the client is answered by the upstream through the relay', async () => {
    const ws = await connect('/ping', ['realtime']);
    ws.ping(Buffer.from('are-you-there'));
    const [data] = (await once(ws, 'pong')) as [Buffer];
    assert.equal(data.toString(), 'are-you-there');
    ws.close();
    await once(ws, 'close');
  });

  test('close codes and reasons pass through', async () => {
    const ws = await connect('/close', ['realtime']);
    ws.send('close-4001');
    const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'custom reason');
    await proxy.nextCapture();
  });

  test('an upstream refusal reaches the client with its status', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/refuse`);
    ws.on('error', () => undefined);
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
    assert.equal(res.statusCode, 401);
    res.resume();
    ws.terminate();
  });

  test("a request target never chooses the upstream: the route's upstream gets it as a path", async () => {
    const elsewhere = await startUpstream((_req, res) => res.end('elsewhere'));
    let reached = 0;
    elsewhere.server.on('upgrade', (_req, socket) => {
      reached++;
      socket.destroy();
    });
    const at = new URL(elsewhere.url).host;
    try {
      // A path that a URL resolver takes for a host, and an absolute-form target.
      const ws = await connect(`//${at}/v1/realtime`);
      assert.equal(handshakes.at(-1)!.url, `//${at}/v1/realtime`);
      ws.close();
      await once(ws, 'close');
      const raw = netConnect(proxy.port, '127.0.0.1');
      raw.write(`GET http://${at}/v1/realtime HTTP/1.1\r\nHost: ${at}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`);
      const [head] = (await once(raw, 'data')) as [Buffer];
      assert.match(head.toString(), /^HTTP\/1\.1 101/);
      assert.equal(handshakes.at(-1)!.url, '/v1/realtime');
      raw.destroy();
      assert.equal(reached, 0);
    } finally {
      await elsewhere.close();
    }
  });

  test('an unreachable upstream refuses the handshake with 502', async () => {
    const dead = await startTestProxy('http://127.0.0.1:1');
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${dead.port}/v1/realtime`);
      ws.on('error', () => undefined);
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
      assert.equal(res.statusCode, 502);
      res.resume();
      ws.terminate();
    } finally {
      await dead.close();
    }
  });
});
