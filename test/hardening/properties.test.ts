import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { loadCredentialRules } from '../../src/detect/engine/rules-load.js';
import { SecretScanner } from '../../src/detect/engine/scanner.js';
import { StreamScanner } from '../../src/detect/engine/stream-scanner.js';
import { normalize } from '../../src/detect/exfiltration/normalize.js';
import { parseSse, SseParser, type SseEvent } from '../../src/providers/sse.js';
import { viewExchange, type RawExchange } from '../../src/providers/view.js';
import { decodeBody } from '../../src/proxy/decode.js';
import { fakeAwsId, fakeGithubToken, fakeOpenAiProjectKey, randomAlnum } from './support.js';


// Property-based tests (fast-check) of the parsers and the scanner on the
// inspection path: they never throw, they take bounded time, and a secret
// embedded anywhere is found. Seeds are random per run; a failure prints the
// seed and the shrunk counterexample to replay it.

const RUNS = 150;
const timed = <T>(budgetMs: number, what: string, f: () => T): T => {
  const started = performance.now();
  const out = f();
  const took = performance.now() - started;
  assert.ok(took < budgetMs, `${what} took ${took.toFixed(1)} ms (budget ${budgetMs} ms)`);
  return out;
};

/** Splits `bytes` at the given cut points (any positions, even inside a UTF-8 character or a CRLF). */
function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

describe('SSE parser', () => {
  const lineText = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' '));
  const eventArb = fc.record({ event: fc.constantFrom('', 'message', 'delta', 'error'), lines: fc.array(lineText, { minLength: 1, maxLength: 4 }) });
  const eol = fc.constantFrom('\n', '\r\n', '\r');

  test('chunked anywhere, the events equal those of the whole stream and of the source', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 8 }), eol, fc.array(fc.nat(), { maxLength: 12 }), (events, nl, cuts) => {
        let text = '';
        for (const e of events) {
          if (e.event) text += `event: ${e.event}${nl}`;
          for (const l of e.lines) text += `data: ${l}${nl}`;
          text += nl;
        }
        const bytes = Buffer.from(text, 'utf8');
        const whole = parseSse(bytes).events;
        const pieces: SseEvent[] = [];
        const parser = new SseParser((e) => pieces.push(e));
        for (const chunk of splitAt(bytes, cuts)) parser.push(chunk);
        parser.end();
        assert.deepEqual(pieces, whole);
        assert.deepEqual(
          whole.map((e) => [e.event, e.data]),
          events.map((e) => [e.event || 'message', e.lines.join('\n')]),
        );
      }),
      { numRuns: RUNS },
    );
  });

  test('arbitrary bytes never throw and stay within the caps', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.array(fc.nat(), { maxLength: 8 }), (raw, cuts) => {
        const parser = new SseParser((e) => assert.ok(Buffer.byteLength(e.data) <= 512, 'an event never exceeds its cap'), { maxLineBytes: 256, maxEventBytes: 512 });
        for (const chunk of splitAt(Buffer.from(raw), cuts)) parser.push(chunk);
        parser.end();
      }),
      { numRuns: RUNS },
    );
  });

  test('a 16 MiB line without a newline is dropped in bounded time', () => {
    const parser = new SseParser(() => assert.fail('no event from an unterminated line'), { maxLineBytes: 1024 * 1024 });
    const block = Buffer.alloc(64 * 1024, 0x61);
    timed(2000, '16 MiB unterminated line', () => {
      parser.push('data: ');
      for (let i = 0; i < 256; i++) parser.push(block);
    });
    assert.equal(parser.overflowed, true);
  });
});

describe('provider adapters (viewExchange)', () => {
  const routes = [
    { path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } },
    { path: '/v1/responses', headers: { 'content-type': 'application/json' } },
    { path: '/v1/messages', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } },
    { path: '/v1beta/models/gemini-1.5-pro:generateContent', headers: { 'content-type': 'application/json' } },
    { path: '/model/anthropic.claude-3/converse', headers: { 'content-type': 'application/json' } },
    { path: '/openai/deployments/gpt4/chat/completions', headers: { 'content-type': 'application/json', 'api-key': 'x' } },
    { path: '/key/generate', headers: { 'content-type': 'application/json' } },
    { path: '/v1/embeddings', headers: {} },
    { path: '/v1/chat/completions', headers: { 'content-type': 'multipart/form-data; boundary=b' } },
    { path: '/v1/chat/completions', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
  ];
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
    fc.jsonValue({ maxDepth: 6 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.string({ unit: 'binary', maxLength: 512 }).map((s) => Buffer.from(`data: ${s}\n\n`)),
  );
  const raw = fc.record({
    route: fc.constantFrom(...routes),
    requestBody: body,
    responseBody: body,
    status: fc.constantFrom(0, 200, 400, 401, 500),
    responseType: fc.constantFrom('application/json', 'text/event-stream', 'application/vnd.amazon.eventstream', ''),
  });

  test('any bodies on any route: no throw, bounded time, well-formed parts', () => {
    fc.assert(
      fc.property(raw, (r) => {
        const input: RawExchange = {
          method: 'POST',
          path: r.route.path,
          query: '',
          requestHeaders: r.route.headers,
          responseHeaders: r.responseType ? { 'content-type': r.responseType } : {},
          status: r.status,
          requestBody: r.requestBody,
          responseBody: r.responseBody,
        };
        const view = timed(200, 'viewExchange', () => viewExchange(input));
        for (const p of [...view.prompt, ...view.completion]) {
          assert.equal(typeof p.text, 'string');
          assert.match(p.path, /^(request|response)\./);
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('a secret anywhere in a chat message, at any JSON nesting, is in some prompt part', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), fc.nat(5), fc.constantFrom(...routes.slice(0, 4)), (before, after, wrap, route) => {
        const secret = fakeAwsId();
        const content = `${before} ${secret} ${after}`;
        let value: unknown = content;
        for (let i = 0; i < wrap; i++) value = i % 2 === 0 ? [{ type: 'text', text: value }] : { text: value };
        const body = { model: 'm', messages: [{ role: 'user', content: value }], contents: [{ role: 'user', parts: [{ text: content }] }], input: value };
        const view = viewExchange({
          method: 'POST',
          path: route.path,
          query: '',
          requestHeaders: route.headers,
          responseHeaders: {},
          status: 200,
          requestBody: Buffer.from(JSON.stringify(body)),
          responseBody: Buffer.alloc(0),
        });
        assert.ok(
          view.prompt.some((p) => p.text.includes(secret)),
          `the secret is in no prompt part of ${route.path}: ${JSON.stringify(view.prompt.map((p) => p.path))}`,
        );
      }),
      { numRuns: RUNS },
    );
  });
});

describe('body decoder', () => {
  const encoders: Record<string, (b: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };

  test('round trip under the limit; exactly the limit over it; never throws on garbage', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 8192 }), fc.constantFrom('gzip', 'deflate', 'br'), fc.integer({ min: 0, max: 10_000 }), async (data, enc, limit) => {
        const plain = Buffer.from(data);
        const decoded = await decodeBody(encoders[enc]!(plain), enc, limit);
        if (plain.length < limit) {
          assert.ok(decoded.body.equals(plain));
          assert.equal(decoded.partial, false);
        } else {
          assert.equal(decoded.body.length, Math.min(limit, plain.length));
          assert.ok(decoded.body.equals(plain.subarray(0, decoded.body.length)));
        }
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.constantFrom('gzip', 'deflate', 'br', 'gzip, br', 'zstd', 'identity', 'GZIP', ''), async (data, enc) => {
        const decoded = await decodeBody(Buffer.from(data), enc, 4096);
        assert.ok(decoded.body.length <= Math.max(4096, data.length));
      }),
      { numRuns: RUNS },
    );
  });

  test('a truncated compressed body decodes to a prefix of the original', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 4000 }), fc.constantFrom('gzip', 'deflate', 'br'), fc.double({ min: 0, max: 1, noNaN: true }), async (text, enc, keep) => {
        const plain = Buffer.from(text);
        const packed = encoders[enc]!(plain);
        const decoded = await decodeBody(packed.subarray(0, Math.floor(packed.length * keep)), enc, 1 << 20);
        assert.ok(plain.subarray(0, decoded.body.length).equals(decoded.body), 'a prefix, never invented bytes');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('exfiltration normalizer', () => {
  test('any text: no throw, a monotonic offset map into the original, bounded time', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'grapheme-ascii', maxLength: 400 })), (text) => {
        const n = normalize(text);
        assert.equal(n.map.length, n.text.length + 1);
        assert.equal(n.map[n.text.length], text.length);
        for (let i = 0; i < n.text.length; i++) {
          assert.ok(n.map[i]! >= 0 && n.map[i]! <= text.length, 'offsets point into the original');
          if (i > 0) assert.ok(n.map[i]! >= n.map[i - 1]!, 'offsets never go back');
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('hostile shapes of 200 000 chars normalize in bounded time', () => {
    const shapes = [
      'i g n o r e '.repeat(20_000),
      'a-'.repeat(100_000),
      '\u200b'.repeat(200_000),
      'i\u0301'.repeat(100_000),
      String.fromCodePoint(0xe0041).repeat(50_000),
      '.'.repeat(200_000),
      'ıİ'.repeat(100_000),
    ];
    for (const s of shapes) timed(1500, `normalize ${JSON.stringify(s.slice(0, 6))}…`, () => normalize(s));
  });
});

describe('credential scanner', () => {
  const scanner = new SecretScanner(loadCredentialRules());
  const makers = [fakeAwsId, fakeGithubToken, fakeOpenAiProjectKey, () => 'sk_live_' + randomAlnum(56)];
  const separators = fc.constantFrom(' ', '\n', '"', "'", '`', '(', ')', ',', ':', '=', '\t', '<', '>', '|');
  const noise = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme-ascii', maxLength: 300 }));

  test('a secret embedded anywhere in random text is found, at its exact offsets', () => {
    fc.assert(
      fc.property(noise, noise, separators, separators, fc.nat(makers.length - 1), (before, after, left, right, which) => {
        const secret = makers[which]!();
        const text = `${before}${left}${secret}${right}${after}`;
        const start = before.length + left.length;
        const found = timed(100, 'scan', () => scanner.scan(text));
        assert.ok(
          found.some((m) => m.start === start && m.end === start + secret.length),
          `not found at ${start}: ${JSON.stringify(found.map((m) => [m.rule.id, m.start, m.end]))}`,
        );
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('split into arbitrary pieces (streamed deltas), the secret is reported exactly once', () => {
    fc.assert(
      fc.property(noise, noise, fc.array(fc.nat(), { maxLength: 10 }), fc.nat(makers.length - 1), (before, after, cuts, which) => {
        const secret = makers[which]!();
        const text = `${before} ${secret} ${after}`;
        const start = before.length + 1;
        const stream = new StreamScanner(scanner);
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const found = [];
        let last = 0;
        for (const p of [...points, text.length]) {
          found.push(...stream.push(text.slice(last, p)));
          last = p;
        }
        found.push(...stream.end());
        const hits = found.filter((m) => m.start === start && m.end === start + secret.length);
        assert.equal(hits.length, 1, `found ${JSON.stringify(found.map((m) => [m.rule.id, m.start, m.end]))}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('random text of 64 KiB scans in bounded time and reports only well-formed offsets', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', minLength: 1000, maxLength: 4000 }), (seed) => {
        const text = seed.repeat(Math.ceil(65_536 / seed.length)).slice(0, 65_536);
        for (const m of timed(250, '64 KiB scan', () => scanner.scan(text))) {
          assert.ok(m.start >= 0 && m.end <= text.length && m.start < m.end);
          assert.equal(text.slice(m.start, m.end), m.secret);
        }
      }),
      { numRuns: 30 },
    );
  });
});
