import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { send, sleep } from '../helpers/servers.js';
import { assertServing, rawExchange, startRecordingUpstream, startSidecar, type RecordingUpstream, type Sidecar, closeLeftovers } from './support.js';

after(closeLeftovers);

// Request smuggling, header floods and slowloris through the real sidecar.
// The reference is a bare Node HTTP server fed the same bytes: a request it
// refuses must be refused by gatewatch with the same status and reach no
// upstream; a request it accepts must reach the upstream framed the same way.

interface Seen {
  readonly url: string;
  readonly body: string;
  /** Header fields as parsed, minus the ones a proxy sets by design. */
  readonly headers: Array<[string, string]>;
}

const PROXY_SET = /^(x-forwarded-|connection$|keep-alive$|host$|transfer-encoding$|content-length$)/;

function parsedHeaders(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) if (!PROXY_SET.test(raw[i]!.toLowerCase())) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

async function startReference(): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body, headers: parsedHeaders(req.rawHeaders) });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const CASES: ReadonlyArray<{ name: string; bytes: string }> = [
  {
    name: 'Content-Length and Transfer-Encoding together (CL.TE)',
    bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGPOST /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  },
  {
    name: 'Transfer-Encoding then Content-Length (TE.CL)',
    bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST /smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n',
  },
  { name: 'two different Content-Length values', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 20\r\n\r\nabcGET /smuggled HTTP/1.1\r\n\r\n' },
  { name: 'two equal Content-Length values', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc' },
  { name: 'a Content-Length list', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc' },
  { name: 'an obfuscated Transfer-Encoding (xchunked)', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 3\r\n\r\nabc' },
  { name: 'Transfer-Encoding: chunked, identity', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n' },
  { name: 'a space before the colon of Transfer-Encoding', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc' },
  { name: 'obs-fold of Transfer-Encoding', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\nabc' },
  { name: 'obs-fold of an ordinary header', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nX-Note: part one\r\n part two\r\nContent-Length: 3\r\n\r\nabc' },
  { name: 'a bare LF in the header block', bytes: 'POST /a HTTP/1.1\r\nHost: x\nContent-Length: 3\r\n\r\nabc' },
  { name: 'a bare CR in a header value', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nX-Note: a\rContent-Length: 99\r\nContent-Length: 3\r\n\r\nabc' },
  { name: 'an invalid chunk size', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n' },
  { name: 'a chunk size that overflows', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc\r\n0\r\n\r\n' },
  { name: 'a chunk without its CRLF', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n' },
  { name: 'a negative Content-Length', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nabc' },
  { name: 'a header name with a space', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nContent Length: 3\r\n\r\nabc' },
  { name: 'an HTTP/1.0 request with Transfer-Encoding', bytes: 'POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' },
  { name: 'pipelined requests with bodies', bytes: 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' },
];

describe('request smuggling and malformed framing', { timeout: 120_000 }, () => {
  let upstream: RecordingUpstream;
  let sidecar: Sidecar;
  let reference: Awaited<ReturnType<typeof startReference>>;

  before(async () => {
    upstream = await startRecordingUpstream();
    sidecar = await startSidecar(upstream.url);
    reference = await startReference();
  });

  after(async () => {
    await sidecar?.close();
    await upstream?.close();
    await reference?.close();
  });

  for (const c of CASES) {
    test(c.name, async () => {
      reference.seen.length = 0;
      upstream.received.length = 0;
      const direct = await rawExchange(reference.port, c.bytes, 200);
      const proxied = await rawExchange(sidecar.port, c.bytes, 200);
      assert.equal(proxied.status, direct.status, `status: node says ${direct.status}, gatewatch says ${proxied.status}\n${proxied.text.slice(0, 300)}`);
      // What reached the upstream is exactly what a bare Node server parsed from the same bytes.
      for (let i = 0; i < 50 && upstream.received.length < reference.seen.length; i++) await sleep(20);
      await sleep(100);
      // Framing headers may change on the way (a chunked body can arrive with either framing); the body may not.
      const forwarded = upstream.received.map((r) => ({ url: r.url, body: r.body.toString('latin1'), headers: parsedHeaders(r.rawHeaders) }));
      assert.deepEqual(forwarded, reference.seen, 'the upstream saw the requests Node parsed, with the same headers and bodies');
      assert.ok(!forwarded.some((r) => r.url.includes('smuggled')), 'no smuggled request reached the upstream');
      await assertServing(sidecar);
    });
  }

  test('an absolute-form request target naming another host still goes to the configured upstream', async () => {
    await sleep(100);
    upstream.received.length = 0;
    const received = upstream.next();
    const reply = await rawExchange(sidecar.port, 'GET http://evil.example/steal HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 200);
    assert.equal(reply.status, 200);
    const got = await received;
    assert.match(got.url, /\/steal$/);
  });

  test('a header block just under the limit goes through whole; one over it gets 431 as from Node', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 150; i++) headers[`x-flood-${i}`] = 'v'.repeat(80);
    await sleep(100);
    upstream.received.length = 0;
    const received = upstream.next();
    const reply = await send(`${sidecar.url}/v1/models`, { headers });
    assert.equal(reply.status, 200);
    const got = await received;
    for (let i = 0; i < 150; i++) assert.equal(got.headers[`x-flood-${i}`], 'v'.repeat(80));

    const huge = `GET /a HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
    const many = `GET /a HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`;
    for (const bytes of [huge, many]) {
      const direct = await rawExchange(reference.port, bytes, 200);
      const proxied = await rawExchange(sidecar.port, bytes, 200);
      assert.equal(direct.status, 431);
      assert.equal(proxied.status, direct.status);
    }
    await assertServing(sidecar);
  });

  test('slowloris clients trickling headers do not stop others from being served', async () => {
    const clients: Socket[] = [];
    for (let i = 0; i < 100; i++) {
      const s = connect(sidecar.port, '127.0.0.1');
      s.on('error', () => undefined);
      clients.push(s);
    }
    await Promise.all(clients.map((s) => once(s, 'connect')));
    const trickle = setInterval(() => {
      for (const s of clients) if (!s.destroyed) s.write(clients.indexOf(s) === 0 ? 'G' : 'X-Slow: a\r\n'.slice(0, 1));
    }, 50);
    for (const s of clients) s.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
    try {
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        await assertServing(sidecar);
        assert.ok(performance.now() - started < 1000, 'a normal request is served promptly beside the slow ones');
        await sleep(20);
      }
    } finally {
      clearInterval(trickle);
      for (const s of clients) s.destroy();
    }
    assert.equal(upstream.received.filter((r) => r.url === '/slow').length, 0, 'an unfinished header block never reaches the upstream');
  });
});
