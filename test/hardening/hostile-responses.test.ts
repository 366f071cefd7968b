import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sleep } from '../helpers/servers.js';
import { assertNoLeak, assertServing, closeLeftovers, fakeAwsId, fakeGithubToken, startRecordingUpstream, startSidecar, waitForSecretAlert, type RecordingUpstream, type Sidecar } from './support.js';

// Hostile responses: SSE with broken framing, invalid UTF-8, giant lines,
// streams cut mid-event, compressed bombs. The client must get exactly the
// bytes and headers the upstream sent (compared with a direct request), the
// sidecar must keep serving, and secrets in them must be found, not leaked.

after(closeLeftovers);

interface Fetched {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function fetchRaw(url: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end('{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}');
  });
}

const delta = (text: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text } }] })}`;

describe('hostile responses', { timeout: 120_000 }, () => {
  let upstream: RecordingUpstream;
  let sidecar: Sidecar;
  const secrets: string[] = [];
  /** path → the response pieces the upstream writes (with small pauses between). */
  const scripts = new Map<string, { headers: Record<string, string>; pieces: Buffer[] }>();

  before(async () => {
    upstream = await startRecordingUpstream(async (r, res) => {
      const script = scripts.get(r.url);
      if (!script) return void res.end('{}');
      res.writeHead(200, script.headers);
      for (const p of script.pieces) {
        res.write(p);
        await sleep(2);
      }
      res.end();
    });
    sidecar = await startSidecar(upstream.url);
  });

  after(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  async function assertSameResponse(path: string, headers: Record<string, string>, pieces: Array<Buffer | string>): Promise<Fetched> {
    scripts.set(path, { headers, pieces: pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)) });
    const direct = await fetchRaw(`${upstream.url}${path}`);
    const proxied = await fetchRaw(`${sidecar.url}${path}`);
    assert.equal(proxied.status, direct.status);
    assert.ok(proxied.body.equals(direct.body), `the client got the same ${direct.body.length} bytes (got ${proxied.body.length})`);
    const strip = (h: IncomingHttpHeaders) => {
      const { date: _d, connection: _c, 'keep-alive': _k, ...rest } = h;
      return rest;
    };
    assert.deepEqual(strip(proxied.headers), strip(direct.headers), 'the client got the same headers');
    return proxied;
  }

  const sse = { 'content-type': 'text/event-stream' };

  test('SSE with CR-only line ends: forwarded as is, a secret in it is found', async () => {
    const key = fakeAwsId();
    secrets.push(key);
    await assertSameResponse('/v1/chat/completions?cr', sse, [`${delta('the key ')}\r\r`, `${delta(key)}\r`, `\r${delta(' ok')}\r\rdata: [DONE]\r\r`]);
    await waitForSecretAlert(sidecar, key, 'CR-framed SSE');
  });

  test('SSE without blank lines, with junk fields, comments and a stream cut mid-event', async () => {
    await assertSameResponse('/v1/chat/completions?broken', sse, [
      `${delta('a')}\n${delta('b')}\n`,
      ': comment\nretry: x\nid: \u0000\nevent\n:\n',
      'data',
      ': {"choices":[{"index":0,"delta":{"content":',
      '"half an ev',
    ]);
    await assertServing(sidecar);
  });

  test('SSE with invalid UTF-8 and a multi-byte character split across writes', async () => {
    const snow = Buffer.from('☃');
    await assertSameResponse('/v1/chat/completions?utf8', sse, [
      Buffer.concat([Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"x'), Buffer.from([0xff, 0xc0, 0xed, 0xa0, 0x80]), Buffer.from('"}}]}\n\n')]),
      Buffer.concat([Buffer.from('data: '), snow.subarray(0, 1)]),
      Buffer.concat([snow.subarray(1), Buffer.from('\n\n')]),
    ]);
    await assertServing(sidecar);
  });

  test('an SSE line of 6 MiB with no end, then a normal event carrying a secret', async () => {
    const key = fakeGithubToken();
    secrets.push(key);
    const giant = Buffer.alloc(6 * 1024 * 1024, 0x61);
    await assertSameResponse('/v1/chat/completions?giant', sse, [`${delta('start')}\n\n`, 'data: ', giant, '\n\n', `${delta(`then ${key}`)}\n\n`, 'data: [DONE]\n\n']);
    await assertServing(sidecar);
  });

  test('JSON declared as SSE and SSE declared as JSON', async () => {
    const key = fakeAwsId();
    secrets.push(key);
    await assertSameResponse('/v1/chat/completions?json-as-sse', sse, [JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: `use ${key}` } }] })]);
    await assertSameResponse('/v1/chat/completions?sse-as-json', { 'content-type': 'application/json' }, [`${delta('x')}\n\ndata: [DONE]\n\n`]);
    await waitForSecretAlert(sidecar, key, 'JSON declared as SSE');
  });

  test('a gzip bomb response reaches the client compressed and unchanged', async () => {
    const zeros = gzipSync(Buffer.alloc(32 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array<Buffer>(32).fill(zeros));
    const got = await assertSameResponse('/v1/chat/completions?bomb', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, [bomb]);
    assert.equal(got.headers['content-encoding'], 'gzip');
    await assertServing(sidecar);
  });

  test('no secret of a hostile response reached an output', async () => {
    await assertNoLeak(sidecar, secrets);
  });
});
