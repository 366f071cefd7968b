import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { decodeBody } from '../../src/proxy/decode.js';

const text = Buffer.from('{"messages":[{"role":"user","content":"hello compressed world"}]}'.repeat(50));

test('gzip, deflate and br bodies are decoded for inspection', async () => {
  for (const [encoding, body] of [
    ['gzip', gzipSync(text)],
    ['deflate', deflateSync(text)],
    ['br', brotliCompressSync(text)],
  ] as const) {
    const d = await decodeBody(body, encoding, 1 << 20);
    assert.equal(d.partial, false, encoding);
    assert.deepEqual(d.body, text, encoding);
  }
});

test('identity and missing encodings return the body as is', async () => {
  assert.deepEqual((await decodeBody(text, undefined, 10)).body, text);
  assert.deepEqual((await decodeBody(text, 'identity', 10)).body, text);
});

test('stacked encodings are undone in reverse order', async () => {
  const d = await decodeBody(brotliCompressSync(gzipSync(text)), 'gzip, br', 1 << 20);
  assert.deepEqual(d.body, text);
});

test('a decompression bomb stops at the output limit', async () => {
  const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024));
  assert.ok(bomb.length < 1024 * 1024);
  const started = performance.now();
  const d = await decodeBody(bomb, 'gzip', 4096);
  assert.equal(d.partial, true);
  assert.equal(d.reason, 'decode_limit');
  assert.equal(d.body.length, 4096);
  assert.ok(performance.now() - started < 2000);
});

test('a truncated gzip body yields what could be decoded', async () => {
  const full = gzipSync(text);
  const d = await decodeBody(full.subarray(0, Math.floor(full.length / 2)), 'gzip', 1 << 20);
  assert.ok(d.body.length > 0);
  assert.ok(text.subarray(0, d.body.length).equals(d.body));
});

test('corrupt bodies and unknown encodings are reported partial, never thrown', async () => {
  const corrupt = await decodeBody(Buffer.from('not gzip at all'), 'gzip', 1 << 20);
  assert.equal(corrupt.partial, true);
  const unknown = await decodeBody(text, 'zstd', 1 << 20);
  assert.equal(unknown.partial, true);
  assert.deepEqual(unknown.body, text);
});
