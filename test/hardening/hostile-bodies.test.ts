import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { send, sleep, waitFor } from '../helpers/servers.js';
import {
  assertNoLeak,
  assertServing,
  assertTransparent,
  fakeAwsId,
  fakeGithubToken,
  startRecordingUpstream,
  startSidecar,
  waitForSecretAlert,
  type RecordingUpstream,
  type Sidecar,
  closeLeftovers,
} from './support.js';

after(closeLeftovers);

// Hostile request bodies through the real sidecar: the upstream must see
// exactly what it sees without gatewatch, the sidecar must keep serving, and
// no secret may reach an output.

const json = { 'content-type': 'application/json' };

function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
  return sum;
}

/** Streams `total` bytes of repeated `block` as one request; resolves with the status and the sha256 sent. */
function streamBody(url: string, block: Buffer, total: number): Promise<{ status: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const req = request(url, { method: 'POST', agent: false, headers: { ...json, 'content-length': String(total) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sha256: hash.digest('hex') }));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const piece = block.subarray(0, Math.min(block.length, total - sent));
        hash.update(piece);
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('hostile request bodies', { timeout: 120_000 }, () => {
  let upstream: RecordingUpstream;
  let sidecar: Sidecar;
  const secrets: string[] = [];
  const secret = (make: () => string) => {
    const s = make();
    secrets.push(s);
    return s;
  };

  before(async () => {
    upstream = await startRecordingUpstream();
    sidecar = await startSidecar(upstream.url);
  });

  after(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  test('malformed JSON is forwarded as sent and its text is still inspected', async () => {
    const key = secret(fakeAwsId);
    const body = `{"model": "gpt-4o", "messages": [{"role": "user", "content": "deploy with ${key}" ,,, }`;
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: json, body });
    await waitForSecretAlert(sidecar, key, 'malformed JSON');
  });

  test('JSON truncated at every tenth byte is forwarded byte for byte', async () => {
    const key = secret(fakeGithubToken);
    const whole = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `token ${key} in a "quoted \\u00e9" string` }] });
    for (let cut = 1; cut < whole.length; cut += Math.ceil(whole.length / 10)) {
      await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: json, body: whole.slice(0, cut) });
    }
    await assertServing(sidecar);
  });

  test('invalid UTF-8 reaches the upstream as the same bytes', async () => {
    const body = Buffer.concat([
      Buffer.from('{"messages":[{"role":"user","content":"'),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xed, 0xa0, 0x80, 0xff, 0xfe, 0x00]),
      Buffer.from('"}]}'),
    ]);
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: json, body });
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: { 'content-type': 'application/json; charset=utf-8' }, body: randomBytes(64 * 1024) });
    await assertServing(sidecar);
  });

  test('JSON nested 100 000 levels deep is forwarded and does not break inspection', async () => {
    const depth = 100_000;
    const key = secret(fakeAwsId);
    const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"see ${key}"}],"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: json, body });
    const objects = `{"messages":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: json, body: objects });
    await waitForSecretAlert(sidecar, key, 'JSON beside a 100k-deep array');
    await assertServing(sidecar);
  });

  test('a single 8 MB string (beyond the capture cap) is forwarded whole; a key at its start is found', async () => {
    const key = secret(fakeGithubToken);
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `${key} ${'A'.repeat(8 * 1024 * 1024)}` }] });
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: json, body });
    await waitForSecretAlert(sidecar, key, 'the start of a huge string');
    const partial = async () => metricValue((await send(`${sidecar.adminUrl}/metrics`)).body.toString(), 'gatewatch_inspection_partial');
    await waitFor(async () => (await partial()) >= 1, 5000, 'the cut capture to be counted as partial inspection');
  });

  test('a 100 MB body streams through unchanged', async () => {
    const block = randomBytes(1024 * 1024);
    const total = 100 * 1024 * 1024;
    const received = upstream.next();
    const rssBefore = process.memoryUsage().rss;
    const { status, sha256 } = await streamBody(`${sidecar.url}/v1/files`, block, total);
    const got = await received;
    assert.equal(status, 200);
    assert.equal(got.size, total);
    assert.equal(got.sha256, sha256);
    // The capture is capped at 1 MiB: forwarding 100 MB must not hold it in memory.
    // (The upstream in this process keeps up to 16 MB of what it received.)
    assert.ok(process.memoryUsage().rss - rssBefore < 80 * 1024 * 1024, `RSS grew by ${(process.memoryUsage().rss - rssBefore) >> 20} MB`);
    await assertServing(sidecar);
  });

  test('a gzip bomb (2 GiB inflated) is forwarded compressed and unchanged; inspection stops at its limit', async () => {
    const key = secret(fakeAwsId);
    // Gzip members concatenate: one member with a key, then 64 MiB of zeros 32 times.
    const zeros = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat([gzipSync(Buffer.from(`{"messages":[{"role":"user","content":"key ${key} `)), ...Array<Buffer>(32).fill(zeros)]);
    const metricsBefore = metricValue((await send(`${sidecar.adminUrl}/metrics`)).body.toString(), 'gatewatch_inspection_partial');
    const started = performance.now();
    const { proxied } = await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', {
      headers: { ...json, 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(proxied.size, bomb.length);
    assert.equal(proxied.headers['content-encoding'], 'gzip');
    let metricsAfter = metricsBefore;
    while (metricsAfter === metricsBefore && performance.now() - started < 10_000) {
      await sleep(50);
      metricsAfter = metricValue((await send(`${sidecar.adminUrl}/metrics`)).body.toString(), 'gatewatch_inspection_partial');
    }
    assert.ok(metricsAfter > metricsBefore, 'the bomb was inspected, in part, within seconds: decoding stopped at its output limit');
    await assertServing(sidecar);
    // The decoded 4 MiB are the key followed by NUL bytes: the key must still be found.
    await waitForSecretAlert(sidecar, key, 'the start of a gzip bomb');
  });

  test('a NUL byte in front of a key in a body that is not JSON does not hide the key', async () => {
    const key = secret(fakeAwsId);
    const body = Buffer.concat([Buffer.from('{"messages":[{"role":"user",\0"content":"'), Buffer.from(`here: ${key}`), Buffer.from('"}]')]);
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: json, body });
    await waitForSecretAlert(sidecar, key, 'a body with a NUL byte');
  });

  test('wrong and missing content types are forwarded as sent and still inspected', async () => {
    const key = secret(fakeAwsId);
    const chat = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `creds ${key}` }] });
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: { 'content-type': 'text/plain' }, body: chat });
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { body: chat });
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `q=${encodeURIComponent(chat)}` });
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\n\r\n' + chat });
    await assertTransparent(upstream, sidecar.url, '/v1/chat/completions', { headers: json, body: randomBytes(4096) });
    await waitForSecretAlert(sidecar, key, 'a mislabelled body');
  });

  test('no secret of any hostile body reached an output', async () => {
    assert.ok(secrets.length >= 5);
    await assertNoLeak(sidecar, secrets);
  });
});
