import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CHUNK } from '../../src/detect/engine/counting-walk.js';
import { KeywordPrefilter } from '../../src/detect/engine/prefilter.js';

function naive(keywords: readonly string[], text: string): string[] {
  const hits: string[] = [];
  const lower = text.toLowerCase();
  for (let end = 1; end <= text.length; end++) {
    keywords.forEach((k, i) => {
      if (end >= k.length && lower.slice(end - k.length, end) === k.toLowerCase()) hits.push(`${i}@${end}`);
    });
  }
  return hits.sort();
}

/** Each hit of one scan, in the order the prefilter lists them. */
function eachHit(p: KeywordPrefilter, text: string, fn: (keyword: number, end: number, spaces: number) => void): void {
  const found = p.scan(text);
  const hits = p.hits;
  for (let h = 0; h < found * 3; h += 3) fn(hits[h]!, hits[h + 1]!, hits[h + 2]!);
}

function hitsOf(p: KeywordPrefilter, text: string): string[] {
  const hits: string[] = [];
  eachHit(p, text, (k, end) => hits.push(`${k}@${end}`));
  return hits.sort();
}

test('finds overlapping keywords case-insensitively with end offsets', () => {
  const p = new KeywordPrefilter(['he', 'she', 'his', 'hers', 'AKIA', 'sk-ant-']);
  assert.equal(p.size, 6);
  assert.deepEqual(hitsOf(p, 'ushers'), ['0@4', '1@4', '3@6']);
  assert.deepEqual(hitsOf(p, 'key=akiaXYZ and SK-ANT-api'), ['4@8', '5@23']);
  assert.deepEqual(hitsOf(p, 'nothing here é ü 日本'), ['0@10']);
});

test('agrees with a naive search on random input', () => {
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[a-cA-C_-]{1,4}$/), { minLength: 1, maxLength: 8 }),
      fc.stringMatching(/^[a-dA-D_é-]{0,60}$/),
      (keywords, text) => {
        assert.deepEqual(hitsOf(new KeywordPrefilter(keywords), text), naive(keywords, text));
      },
    ),
    { numRuns: 500 },
  );
});

test('long text (scanned in two lanes) gives every hit once, in order of its end', () => {
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[a-cA-C_-]{1,6}$/), { minLength: 1, maxLength: 8 }),
      fc.stringMatching(/^[a-dA-D_é-]{256,1200}$/),
      (keywords, text) => {
        const p = new KeywordPrefilter(keywords);
        const ends: number[] = [];
        eachHit(p, text, (_k, end) => ends.push(end));
        assert.deepEqual(ends, [...ends].sort((a, b) => a - b));
        assert.deepEqual(hitsOf(p, text), naive(keywords, text));
      },
    ),
    { numRuns: 300 },
  );
});

test('a keyword longer than half the text is still found', () => {
  const long = 'x'.repeat(200) + 'secretword';
  const p = new KeywordPrefilter([long, 'abc']);
  const text = 'abc ' + 'y'.repeat(60) + long + ' abc';
  assert.deepEqual(hitsOf(p, text), naive([long, 'abc'], text));
});

test('rejects empty and non-ASCII keywords', () => {
  assert.throws(() => new KeywordPrefilter(['']), /empty/);
  assert.throws(() => new KeywordPrefilter(['clé']), /not ASCII/);
  assert.throws(() => new KeywordPrefilter([''], { nonAscii: true }), /empty/);
});

test('non-ASCII keywords, when allowed, are found as they are in text of any script', () => {
  const keywords = ['clé', 'игнорируй', '忽略', 'key'];
  const p = new KeywordPrefilter(keywords, { nonAscii: true });
  for (const text of ['une clé, a KEY', 'игнорируй 忽略 clé', 'CLé игнорируй', 'x'.repeat(300) + ' clés ' + 'y'.repeat(300)]) {
    assert.deepEqual(hitsOf(p, text), naive(keywords, text), text);
  }
  // Only ASCII letters match in either case.
  assert.deepEqual(hitsOf(p, 'ИГНОРИРУЙ CLÉ'), []);
});

test('text beyond Latin-1 is scanned per character: no hits from a code unit that only shares a low byte', () => {
  const p = new KeywordPrefilter(['password']);
  // U+0161 (š) has low byte 0x61 ('a'): a byte-wise copy would turn "pšssword" into "password".
  assert.deepEqual(hitsOf(p, 'p\u0161ssword'), []);
  assert.deepEqual(hitsOf(p, 'pässword password'), ['0@17']);
  assert.deepEqual(hitsOf(p, '日本 password'), ['0@11']);
});

test('with countSpaces each hit counts the spaces before its end, in one lane or two, from a string or its code units', () => {
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[a-c ]{1,5}$/), { minLength: 1, maxLength: 6 }),
      fc.stringMatching(/^[a-c é日]{0,1200}$/),
      (keywords, text) => {
        const list = keywords.filter((k) => k.trim().length > 0).concat('a');
        const counting = new KeywordPrefilter(list, { nonAscii: true, countSpaces: true });
        const fromString: string[] = [];
        eachHit(counting, text, (k, end, spaces) => {
          assert.equal(spaces, text.slice(0, end).split(' ').length - 1, `end ${end}`);
          fromString.push(`${k}@${end}:${spaces}`);
        });
        // The same hits with or without the count.
        assert.deepEqual(hitsOf(counting, text), hitsOf(new KeywordPrefilter(list, { nonAscii: true }), text));
        // And from the text's code units, read where they are.
        const codes = Uint16Array.from(text, (ch) => ch.charCodeAt(0));
        const found = counting.scanCodes(codes, codes.length);
        const fromCodes: string[] = [];
        for (let h = 0; h < found * 3; h += 3) fromCodes.push(`${counting.hits[h]}@${counting.hits[h + 1]}:${counting.hits[h + 2]}`);
        assert.deepEqual(fromCodes, fromString);
      },
    ),
    { numRuns: 300 },
  );
  assert.throws(() => new KeywordPrefilter(['a']).scanCodes(new Uint16Array(1), 1), /countSpaces/);
});

test('text longer than a walk chunk is walked chunk by chunk: a keyword across a chunk boundary is found, spaces still add up', () => {
  const p = new KeywordPrefilter(['boundary word', 'tail'], { countSpaces: true });
  const text = ' '.repeat(10) + 'x'.repeat(CHUNK - 10 - 6) + 'boundary word' + ' '.repeat(5) + 'tail';
  const hits: string[] = [];
  eachHit(p, text, (k, end, spaces) => hits.push(`${k}@${end}:${spaces}`));
  const boundaryEnd = CHUNK - 6 + 'boundary word'.length;
  assert.deepEqual(hits, [`0@${boundaryEnd}:11`, `1@${text.length}:16`]);
});

test('with countSpaces, text of several chunks (odd lengths, short last chunks) gives the hits and counts of a naive search', () => {
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[a-c ]{1,5}$/), { minLength: 1, maxLength: 6 }),
      fc.stringMatching(/^[a-c é]{1,40}$/),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: -300, max: 300 }),
      (keywords, unit, chunks, extra) => {
        const list = keywords.filter((k) => k.trim().length > 0).concat('a');
        const length = Math.max(1, chunks * CHUNK + extra);
        const text = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
        const counting = new KeywordPrefilter(list, { nonAscii: true, countSpaces: true });
        const found: string[] = [];
        let last = 0;
        eachHit(counting, text, (k, end, spaces) => {
          assert.ok(end >= last, 'hits in order of their end');
          last = end;
          found.push(`${k}@${end}:${spaces}`);
        });
        const spacesBefore = [0];
        for (const ch of text) spacesBefore.push(spacesBefore.at(-1)! + (ch === ' ' ? 1 : 0));
        const expected = naive(list, text).map((h) => `${h}:${spacesBefore[Number(h.split('@')[1])]}`);
        assert.deepEqual(found.sort(), expected.sort());
      },
    ),
    { numRuns: 20 },
  );
});
