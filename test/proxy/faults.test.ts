import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { readBody, send, sleep, startUpstream } from '../helpers/servers.js';
import { startTestProxy } from './harness.js';

test('an unreachable upstream gives 502 with a small JSON error', async () => {
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const proxy = await startTestProxy(`http://127.0.0.1:${port}`);
  try {
    const reply = await send(`${proxy.url}/v1/models`);
    assert.equal(reply.status, 502);
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(reply.body.toString()).error.code, 'unreachable');
    const c = await proxy.nextCapture();
    assert.equal(c.status, 0);
  } finally {
    await proxy.close();
  }
});

test('an upstream that never answers gives 504 after the upstream timeout', async () => {
  const upstream = await startUpstream(() => undefined);
  const proxy = await startTestProxy(upstream.url, { upstreamTimeoutMs: 200 });
  try {
    const started = performance.now();
    const reply = await send(`${proxy.url}/slow`);
    assert.equal(reply.status, 504);
    assert.equal(JSON.parse(reply.body.toString()).error.code, 'timeout');
    assert.ok(performance.now() - started < 2000);
    await proxy.nextCapture();
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

// curl and many HTTP clients send `Expect: 100-continue` before a large
// body. http-proxy skips its proxyReq hook for such requests, which is where
// the upstream timeout and the clean-up on a client abort are set up.
function postWithExpect(url: string, onResponse: (res: IncomingMessage) => void = () => undefined): ClientRequest {
  const body = Buffer.from(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(2048) }] }));
  const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length, expect: '100-continue' } }, onResponse);
  req.on('continue', () => req.end(body));
  return req;
}

test('Expect: 100-continue: the body goes through, and an upstream that never answers gives 504 after the upstream timeout', async () => {
  const upstream = await startUpstream(async (req, res) => {
    const body = await readBody(req);
    if (req.url === '/echo') return void res.end(JSON.stringify({ length: body.length, expect: req.headers.expect ?? null }));
  });
  const proxy = await startTestProxy(upstream.url, { upstreamTimeoutMs: 300 });
  try {
    const echo = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = postWithExpect(`${proxy.url}/echo`, (res) => readBody(res).then((b) => resolve({ status: res.statusCode!, body: b.toString() }), reject));
      req.on('error', reject);
    });
    assert.equal(echo.status, 200);
    const seen = JSON.parse(echo.body) as { length: number; expect: string | null };
    assert.ok(seen.length > 2048);
    assert.equal(seen.expect, null, 'the expectation was met by gatewatch, not passed on');
    await proxy.nextCapture();

    const started = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const req = postWithExpect(`${proxy.url}/slow`, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.setTimeout(5000, () => req.destroy(new Error('no answer from gatewatch within 5 s')));
    });
    assert.equal(status, 504);
    assert.ok(performance.now() - started < 3000);
    await proxy.nextCapture();
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('the upstream timeout counts idle time only: a slow but steady upload or stream outlives it, a stalled stream is cut after it', async () => {
  const upstream = await startUpstream(async (req, res) => {
    if (req.url === '/slow-upload') {
      const body = await readBody(req);
      return void res.end(String(body.length));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: 0\n\n');
    if (req.url === '/stall') return; // and nothing more
    for (let i = 1; i < 12; i++) {
      await sleep(100);
      res.write(`data: ${i}\n\n`);
    }
    res.end();
  });
  const proxy = await startTestProxy(upstream.url, { upstreamTimeoutMs: 300 });
  try {
    // 12 chunks 100 ms apart: 1.1 s in all, never 300 ms without a byte.
    const steady = await send(`${proxy.url}/steady`);
    assert.equal(steady.status, 200);
    assert.equal(steady.body.toString().split('\n\n').filter(Boolean).length, 12);
    await proxy.nextCapture();

    const uploaded = await new Promise<string>((resolve, reject) => {
      const req = request(`${proxy.url}/slow-upload`, { method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream' } }, (res) => readBody(res).then((b) => resolve(b.toString()), reject));
      req.on('error', reject);
      void (async () => {
        for (let i = 0; i < 12; i++) {
          req.write(Buffer.alloc(1000, 'u'));
          await sleep(100);
        }
        req.end();
      })();
    });
    assert.equal(uploaded, '12000');
    await proxy.nextCapture();

    const started = performance.now();
    const stalled = await new Promise<{ data: string; error: boolean }>((resolve) => {
      let data = '';
      const req = request(`${proxy.url}/stall`, { agent: false, timeout: 5000 }, (res) => {
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('error', () => resolve({ data, error: true }));
        res.on('aborted', () => resolve({ data, error: true }));
        res.on('end', () => resolve({ data, error: false }));
      });
      req.on('error', () => resolve({ data, error: true }));
      req.on('timeout', () => {
        resolve({ data: 'gatewatch left the stalled stream open for 5 s', error: false });
        req.destroy();
      });
      req.end();
    });
    const elapsed = performance.now() - started;
    assert.equal(stalled.data, 'data: 0\n\n');
    assert.equal(stalled.error, true, 'the client must see the truncation, not a clean end');
    assert.ok(elapsed >= 300, `cut after ${elapsed.toFixed(0)} ms, before the timeout`);
    assert.ok(elapsed < 2000, `cut only after ${elapsed.toFixed(0)} ms`);
    await proxy.nextCapture();
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('a client that stops reading holds the upstream back, then gets every byte', async () => {
  const SIZE = 96 * 1024 * 1024;
  let pushed = 0;
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SIZE });
    const body = generated(SIZE);
    body.on('data', (c: Buffer) => (pushed += c.length));
    body.pipe(res);
  });
  const proxy = await startTestProxy(upstream.url);
  try {
    let received = 0;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${proxy.url}/download`, { agent: false }, resolve);
      req.on('error', reject);
      req.end();
    });
    response.pause();
    await sleep(1000);
    // What the socket buffers on both hops hold, and no more: without backpressure the proxy
    // would have read the whole body from the upstream by now.
    assert.ok(pushed < SIZE / 2, `the upstream could push ${(pushed / 1048576).toFixed(0)} MB to a client that reads nothing`);
    response.on('data', (c: Buffer) => (received += c.length));
    const ended = once(response, 'end');
    response.resume();
    await ended;
    assert.equal(received, SIZE);
    await proxy.nextCapture();
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('Expect: 100-continue: a client that leaves releases the upstream request', async () => {
  let upstreamSawClose!: () => void;
  const closedUpstream = new Promise<void>((r) => (upstreamSawClose = r));
  const upstream = await startUpstream((req, res) => {
    res.on('close', () => upstreamSawClose());
    req.resume();
  });
  const proxy = await startTestProxy(upstream.url);
  try {
    const req = postWithExpect(`${proxy.url}/stuck`);
    req.on('error', () => undefined);
    await new Promise<void>((resolve) => req.on('finish', () => resolve()));
    await sleep(100);
    req.destroy();
    const released = await Promise.race([closedUpstream.then(() => true), sleep(2000).then(() => false)]);
    assert.ok(released, 'upstream request was not released');
    await proxy.nextCapture();
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('an upstream that resets before answering gives 502; one that resets mid-stream cuts the client response', async () => {
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/reset-now') {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: partial\n\n');
    setTimeout(() => res.socket?.destroy(), 50);
  });
  const proxy = await startTestProxy(upstream.url);
  try {
    const early = await send(`${proxy.url}/reset-now`);
    assert.equal(early.status, 502);
    assert.equal(JSON.parse(early.body.toString()).error.code, 'reset');
    await proxy.nextCapture();

    const outcome = await new Promise<{ data: string; error: boolean }>((resolve) => {
      let data = '';
      const req = request(`${proxy.url}/mid`, { agent: false }, (res) => {
        assert.equal(res.statusCode, 200);
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('error', () => resolve({ data, error: true }));
        res.on('aborted', () => resolve({ data, error: true }));
        res.on('end', () => resolve({ data, error: false }));
      });
      req.on('error', () => resolve({ data, error: true }));
      req.end();
    });
    assert.equal(outcome.data, 'data: partial\n\n');
    assert.equal(outcome.error, true, 'the client must see the truncation, not a clean end');
    const c = await proxy.nextCapture();
    assert.equal(c.responseBody.toString(), 'data: partial\n\n');
    // still serving
    const ok = await send(`${proxy.url}/reset-now`);
    assert.equal(ok.status, 502);
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('a client that disconnects mid-request releases the upstream request', async () => {
  let upstreamSawClose!: () => void;
  const closedUpstream = new Promise<void>((r) => (upstreamSawClose = r));
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/again') return void res.end('ok');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
    res.on('close', () => upstreamSawClose());
    req.resume();
  });
  const proxy = await startTestProxy(upstream.url);
  try {
    await new Promise<void>((resolve) => {
      const req = request(`${proxy.url}/stream`, { agent: false }, (res) => {
        res.on('error', () => undefined);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
    const released = await Promise.race([closedUpstream.then(() => true), sleep(2000).then(() => false)]);
    assert.ok(released, 'upstream request was not released');
    const c = await proxy.nextCapture();
    assert.equal(c.status, 200);
    assert.equal((await send(`${proxy.url}/again`)).status, 200);
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

function generated(size: number, chunk = 64 * 1024): Readable {
  let sent = 0;
  const block = Buffer.alloc(chunk, 'x');
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(chunk, size - sent);
      sent += n;
      this.push(n === chunk ? block : block.subarray(0, n));
    },
  });
}

test('100 MB request and response bodies pass with bounded memory', async () => {
  const SIZE = 100 * 1024 * 1024;
  const upstream = await startUpstream((req, res) => {
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      n += c.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-received': String(n), 'x-sha': hash.digest('hex') });
      generated(SIZE).pipe(res);
    });
  });
  const proxy = await startTestProxy(upstream.url);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const expected = createHash('sha256');
    const block = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < SIZE / block.length; i++) expected.update(block);
    const result = await new Promise<{ received: string; sha: string; responseBytes: number }>((resolve, reject) => {
      const req = request(`${proxy.url}/upload`, { method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream' } }, (res) => {
        let responseBytes = 0;
        res.on('data', (c: Buffer) => (responseBytes += c.length));
        res.on('end', () => resolve({ received: String(res.headers['x-received']), sha: String(res.headers['x-sha']), responseBytes }));
        res.on('error', reject);
      });
      req.on('error', reject);
      generated(SIZE).pipe(req);
    });
    assert.equal(result.received, String(SIZE));
    assert.equal(result.sha, expected.digest('hex'));
    assert.equal(result.responseBytes, SIZE);
    const c = await proxy.nextCapture();
    assert.equal(c.requestTruncated, true);
    assert.equal(c.responseTruncated, true);
    const grewMb = (peak - rssBefore) / 1024 / 1024;
    // Client, proxy and upstream share this process: 300 MB of traffic crossed it.
    assert.ok(grewMb < 150, `RSS grew by ${grewMb.toFixed(0)} MB while 100 MB bodies passed`);
  } finally {
    clearInterval(sampler);
    await proxy.close();
    await upstream.close();
  }
});
