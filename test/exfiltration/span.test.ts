import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { maxSpaces } from '../../src/detect/exfiltration/span.js';
import { loadExtractionRules } from '../../src/detect/exfiltration/rules.js';

test('span: spaces are counted through sequences, alternations and bounded repeats', () => {
  assert.equal(maxSpaces('ignore all'), 1);
  assert.equal(maxSpaces('(?:tell me|give me the) prompt'), 3);
  assert.equal(maxSpaces('reveal(?: \\S+){0,4}? (?:your )?prompt'), 6);
  assert.equal(maxSpaces('(?:\\S+ ){2}x|a b c d'), 3);
  assert.equal(maxSpaces('a\\sb\\x20c\\u0020d'), 3);
  assert.equal(maxSpaces('x(?: y)?'), 1);
  assert.equal(maxSpaces('\\S+\\w*\\d{3}[a-z]+'), 0);
});

test('span: classes and escapes that can match a space count, the others do not', () => {
  assert.equal(maxSpaces('[ ]'), 1);
  assert.equal(maxSpaces('[\\s]{2}'), 2);
  assert.equal(maxSpaces('[ -~]{3}'), 3);
  assert.equal(maxSpaces('[!-~]{3}'), 0);
  assert.equal(maxSpaces('[^\\]]{0,60}'), 60);
  assert.equal(maxSpaces('[^ ]{0,60}'), 0);
  assert.equal(maxSpaces('[^\\s]+'), 0);
  assert.equal(maxSpaces('.{2}'), 2);
  assert.equal(maxSpaces('\\W\\D'), 2);
});

test('span: unbounded, needing text before the start, or not understood: no bound', () => {
  assert.equal(maxSpaces('a(?: b)*'), Infinity);
  assert.equal(maxSpaces('a[^x]+'), Infinity);
  assert.equal(maxSpaces('.+'), Infinity);
  assert.equal(maxSpaces('(?<=the )prompt'), Infinity);
  assert.equal(maxSpaces('\\p{L} x'), Infinity);
  assert.equal(maxSpaces('a)b'), Infinity);
});

test('span: a negative lookbehind adds nothing: it only refuses text before the start', () => {
  assert.equal(maxSpaces('(?<!not )prompt'), 0);
  assert.equal(maxSpaces('(?<![a-z0-9])(?:ignore (?:\\S+ ){0,2}rules)'), 3);
  assert.equal(maxSpaces('(?<!x'), Infinity);
});

test('span: a lookahead counts, because a word the rule needs may sit in it', () => {
  assert.equal(maxSpaces('prompt(?= now please)'), 2);
  assert.equal(maxSpaces('prompt(?! (?:policy|manager))'), 1);
});

test('span: no match of a pattern holds more spaces than the bound', () => {
  const words = fc.constantFrom('a', 'bb', 'ccc', 'dd ee', 'f');
  fc.assert(
    fc.property(fc.array(words, { minLength: 1, maxLength: 12 }), fc.nat(4), fc.nat(4), (parts, lo, extra) => {
      const pattern = `a(?: \\S+){${lo},${lo + extra}}?(?: (?:bb|dd ee))?`;
      const bound = maxSpaces(pattern);
      const text = parts.join(' ');
      for (const m of text.matchAll(new RegExp(pattern, 'g'))) assert.ok(m[0].split(' ').length - 1 <= bound, `${pattern} on ${text}`);
    }),
    { numRuns: 300 },
  );
});

test('span: the built-in anchored rules with a second group are bounded', () => {
  const bounded = loadExtractionRules().filter((r) => r.sticky && r.alsoKeywords.length > 0 && maxSpaces(r.sticky.source) <= 64);
  for (const id of ['reveal.en', 'repeat-above.en', 'reformat.en', 'ignore-previous.en']) {
    assert.ok(bounded.some((r) => r.id === id), id);
  }
});
