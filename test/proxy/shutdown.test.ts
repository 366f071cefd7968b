import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { startUpstream } from '../helpers/servers.js';
import { startTestProxy } from './harness.js';

// close(deadline) lets in-flight exchanges run until the deadline and then cuts every connection
// still open: plain HTTP ones and upgraded ones, which the HTTP server no longer tracks.

/** A raw client connection that has sent `request` and has read until `until` appears. */
async function rawClient(port: number, request: string, until: string): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(request);
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.includes(until)) return;
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  socket.resume(); // reads on, answers nothing
  return socket;
}

test('close(deadline) cuts a request the upstream never answers and a WebSocket client that ignores the close', { timeout: 15_000 }, async () => {
  const hanging: Array<() => void> = [];
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/hang') return void hanging.push(() => res.destroy());
    res.end('ok');
  });
  const wss = new WebSocketServer({ noServer: true });
  upstream.server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => undefined));
  const proxy = await startTestProxy(upstream.url);
  try {
    const upstreamSawHang = new Promise<void>((resolve) => {
      upstream.server.once('request', () => setImmediate(resolve));
    });
    const http = netConnect(proxy.port, '127.0.0.1');
    await once(http, 'connect');
    http.write('POST /hang HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
    http.resume();
    await upstreamSawHang;

    const key = randomBytes(16).toString('base64');
    const ws = await rawClient(
      proxy.port,
      `GET /v1/realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      '\r\n\r\n',
    );
    assert.equal(wss.clients.size, 1, 'the upgrade reached the upstream');

    const closed = [http, ws].map((s) => (s.destroyed ? Promise.resolve() : once(s, 'close')));
    const started = Date.now();
    await proxy.proxy.close(300);
    const took = Date.now() - started;
    await Promise.all(closed);
    assert.ok(took >= 250, `close waited for the deadline (${took} ms)`);
    // ws gives a client that never answers its close frame 30 s before it cuts the connection itself.
    assert.ok(took < 5_000, `close cut both connections at the deadline, not later (${took} ms)`);
  } finally {
    for (const end of hanging) end();
    wss.close();
    await proxy.metrics.shutdown();
    await upstream.close();
  }
});
