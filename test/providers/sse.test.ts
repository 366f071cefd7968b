import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSse, SseParser, type SseEvent } from '../../src/providers/sse.js';

function parseChunks(chunks: readonly (Buffer | string)[], opts?: { maxLineBytes?: number; maxEventBytes?: number }): { events: SseEvent[]; overflowed: boolean } {
  const events: SseEvent[] = [];
  const p = new SseParser((e) => events.push(e), opts);
  for (const c of chunks) p.push(c);
  p.end();
  return { events, overflowed: p.overflowed };
}

// Mixed line ends (LF, CRLF, CR), comments, ids, named events, multi-line
// data and 2-, 3- and 4-byte UTF-8 characters.
const STREAM = Buffer.from(
  '\uFEFF: comment line\r\n' +
    'event: greeting\r\n' +
    'id: 1\r\n' +
    'data: héllo 世界\r\n' +
    'data:second line 🎉\r\n\r\n' +
    'data: {"delta":"ünï"}\r' +
    '\r' +
    'retry: 3000\n' +
    'data\n' +
    '\n' +
    'id: 2\n' +
    'event: done\n' +
    'data: 🎉🎉\n\n' +
    'data: incomplete without blank line',
  'utf8',
);

const EXPECTED: SseEvent[] = [
  { event: 'greeting', data: 'héllo 世界\nsecond line 🎉', id: '1' },
  { event: 'message', data: '{"delta":"ünï"}', id: '1' },
  { event: 'message', data: '', id: '1' },
  { event: 'done', data: '🎉🎉', id: '2' },
];

describe('SseParser', () => {
  it('parses fields, comments, multi-line data, ids and mixed line ends', () => {
    assert.deepEqual(parseSse(STREAM).events, EXPECTED);
  });

  it('gives the same events for every split point of the byte stream', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      const { events } = parseChunks([STREAM.subarray(0, i), STREAM.subarray(i)]);
      assert.deepEqual(events, EXPECTED, `split at byte ${i}`);
    }
  });

  it('gives the same events for every pair of split points and byte by byte', () => {
    for (let i = 0; i <= STREAM.length; i += 3) {
      for (let j = i; j <= STREAM.length; j += 5) {
        const { events } = parseChunks([STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)]);
        assert.deepEqual(events, EXPECTED, `split at ${i},${j}`);
      }
    }
    const bytes = [...STREAM].map((b) => Buffer.from([b]));
    assert.deepEqual(parseChunks(bytes).events, EXPECTED);
  });

  it('treats CR then LF across chunks as one line end, not two', () => {
    const { events } = parseChunks(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
    assert.deepEqual(events, [{ event: 'message', data: 'a\nb' }]);
  });

  it('follows the spec examples (empty data, field without colon, one leading space stripped)', () => {
    assert.deepEqual(
      parseSse('data\n\ndata\ndata\n\ndata:').events.map((e) => e.data),
      ['', '\n'],
    );
    assert.deepEqual(
      parseSse('data:test\n\ndata: test\n\ndata:  two spaces\n\n').events.map((e) => e.data),
      ['test', 'test', ' two spaces'],
    );
    assert.deepEqual(parseSse('event: x\n\n').events, [], 'no data, no event');
    assert.deepEqual(parseSse('id: a\0b\ndata: x\n\n').events, [{ event: 'message', data: 'x' }], 'id with NUL ignored');
  });

  it('drops a line longer than the cap, flags it, and keeps parsing after it', () => {
    const huge = 'data: ' + 'x'.repeat(10_000) + '\n\n';
    const chunks: string[] = [];
    const whole = 'data: before\n\n' + huge + 'data: after\n\n';
    for (let i = 0; i < whole.length; i += 333) chunks.push(whole.slice(i, i + 333));
    const r = parseChunks(chunks, { maxLineBytes: 1024 });
    assert.equal(r.overflowed, true);
    assert.deepEqual(r.events.map((e) => e.data), ['before', 'after']);
  });

  it('measures the cap in bytes, not characters', () => {
    const line = 'data: ' + '€'.repeat(400); // 406 chars, 1206 bytes
    assert.equal(parseChunks([line + '\n\n'], { maxLineBytes: 1024 }).overflowed, true);
    assert.equal(parseChunks([line + '\n\n'], { maxLineBytes: 2048 }).overflowed, false);
  });

  it('bounds the data one event accumulates over many lines', () => {
    const many = 'data: 0123456789\n'.repeat(1000) + '\ndata: next\n\n';
    const r = parseChunks([many], { maxLineBytes: 100, maxEventBytes: 2000 });
    assert.equal(r.overflowed, true);
    assert.deepEqual(r.events.map((e) => e.data), ['next']);
  });

  it('keeps memory bounded on an endless line: 8 MiB with no line end', () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const events: SseEvent[] = [];
    const p = new SseParser((e) => events.push(e), { maxLineBytes: 4096 });
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 128; i++) p.push(chunk);
    const grown = process.memoryUsage().heapUsed - before;
    p.push('\ndata: ok\n\n');
    p.end();
    assert.equal(p.overflowed, true);
    assert.deepEqual(events.map((e) => e.data), ['ok']);
    assert.ok(grown < 64 * 1024 * 1024, `heap grew ${grown} bytes`);
  });

  it('never throws and is insensitive to chunking on arbitrary input (property)', () => {
    const alphabet = fc.constantFrom('data:', 'data: ', 'event: e', 'id: 7', ':c', '\n', '\r', '\r\n', 'x', 'é', '🎉', '\uFEFF', ' ');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 6 }), (tokens, cuts) => {
        const bytes = Buffer.from(tokens.join(''), 'utf8');
        const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(bytes.subarray(prev, p));
          prev = p;
        }
        chunks.push(bytes.subarray(prev));
        assert.deepEqual(parseChunks(chunks).events, parseSse(bytes).events);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.integer({ min: 1, max: 64 }), (bytes, cap) => {
        parseChunks([Buffer.from(bytes)], { maxLineBytes: cap });
      }),
      { numRuns: 300 },
    );
  });
});
