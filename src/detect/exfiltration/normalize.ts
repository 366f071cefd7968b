import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DETECTORS_DIR } from '../../paths.js';
import { MIN_RUN, RUN_CHAR } from './decode.js';

// Turns prompt text into the one form the extraction rules are written
// against: NFKC, lower case, no diacritics, confusables mapped to Latin,
// invisible characters removed (Unicode tag characters decoded: "ASCII
// smuggling"), whitespace collapsed, letters separated by spaces or
// punctuation joined back into words. `map[i]` is the offset in the original
// text of normalized char i, so findings point at the original.

export interface NormalizedText {
  readonly text: string;
  /**
   * Original UTF-16 offset of each normalized char (length text.length + 1;
   * the last entry is the original length). Valid until the next call.
   */
  readonly map: Int32Array;
  /** SCRIPT_* bits of the non-Latin scripts seen. */
  readonly scripts: number;
  /** Start/end pairs (original offsets) of runs that may be encoded payloads, for findEncodedPayloads. */
  readonly runs: readonly number[];
  /** True when a leet symbol sits between two letters (`y0u`): worth a leetView. */
  readonly leetish: boolean;
  /** Start/end pairs (normalized offsets) of words joined from letters spaced out one by one. */
  readonly joined: readonly number[];
}

export const SCRIPT_CYRILLIC = 1;
export const SCRIPT_CJK = 2;
export const SCRIPT_OTHER = 4;

/** Script bit of a code point, 0 for Latin/common. */
export function scriptOf(cp: number): number {
  if (cp < 0x370) return 0;
  if (cp >= 0x400 && cp < 0x530) return SCRIPT_CYRILLIC;
  if ((cp >= 0x3040 && cp < 0x3100) || (cp >= 0x3400 && cp < 0xa000) || (cp >= 0xf900 && cp < 0xfb00) || (cp >= 0xff00 && cp < 0xfff0)) return SCRIPT_CJK;
  return SCRIPT_OTHER;
}

const NORMALIZE_DIR = join(DETECTORS_DIR, 'exfiltration', 'normalize');

function loadMap(file: string): Map<string, string> {
  const parsed = JSON.parse(readFileSync(join(NORMALIZE_DIR, file), 'utf8')) as { map: Record<string, string> };
  return new Map(Object.entries(parsed.map));
}

const CONFUSABLES = loadMap('confusables.json');
const LEET = loadMap('leet.json');

const COMBINING = /[\u0300-\u036f]/g;
const INVISIBLE = /^[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\u0300-\u036f]$/;

function foldCodePoint(cp: number): string {
  // Tag characters spell ASCII invisibly; read them as the ASCII they spell.
  if (cp >= 0xe0020 && cp <= 0xe007e) return String.fromCharCode(cp - 0xe0000).toLowerCase();
  if ((cp >= 0xe0000 && cp <= 0xe0fff) || (cp >= 0xfe00 && cp <= 0xfe0f)) return '';
  const s = String.fromCodePoint(cp);
  if (INVISIBLE.test(s)) return '';
  const decomposed = s.normalize('NFKD');
  const stripped = decomposed.replace(COMBINING, '');
  const composed = (stripped !== decomposed ? stripped : s).normalize('NFKC').toLowerCase().replace(COMBINING, '');
  let out = '';
  for (const ch of composed) out += CONFUSABLES.get(ch) ?? ch;
  return out;
}

// Memo of folds for the BMP; astral code points (math alphanumerics, tags) go through a Map.
const bmpFold: (string | undefined)[] = new Array(0x10000);
const astralFold = new Map<number, string>();
for (let c = 0; c < 0x80; c++) bmpFold[c] = String.fromCharCode(c).toLowerCase();

/** The fold of one code point (NFKC, lower case, no diacritics, confusables), memoized. */
export function fold(cp: number): string {
  if (cp < 0x10000) {
    let f = bmpFold[cp];
    if (f === undefined) bmpFold[cp] = f = foldCodePoint(cp);
    return f;
  }
  let f = astralFold.get(cp);
  if (f === undefined) {
    f = foldCodePoint(cp);
    if (astralFold.size < 4096) astralFold.set(cp, f);
  }
  return f;
}

/** Folds one rule-pattern string the way prompt text is folded, leaving ASCII (regex syntax) alone. */
export function foldPattern(source: string): string {
  let out = '';
  for (const ch of source) {
    const cp = ch.codePointAt(0)!;
    out += cp < 0x80 ? ch : fold(cp);
  }
  return out;
}

const WORD = 1;
const SPACE = 2;
const JOINER = 3;

// Char classes of folded text, built once: word chars (letters, digits, and
// the leet symbols @ $), whitespace, and the punctuation people put between
// letters to break keyword matching.
const CLASS = new Uint8Array(0x10000);
{
  const word = /[\p{L}\p{N}\p{M}]/u;
  const space = /\s/u;
  for (let c = 0; c < 0x10000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCharCode(c);
    if (word.test(ch)) CLASS[c] = WORD;
    else if (space.test(ch)) CLASS[c] = SPACE;
  }
  for (const ch of '@$') CLASS[ch.charCodeAt(0)] = WORD;
  for (const ch of ".-_*'`~^|·•’‘+") CLASS[ch.charCodeAt(0)] = JOINER;
}
const SP = 0x20;
const NON_ASCII = /[^\x00-\x7f]/;
// 1 for the leet symbols (digits and @ $ that stand for letters), over all 16-bit codes.
const LEET_CHAR = new Uint8Array(0x10000);
const LEET_CODE = new Uint16Array(0x80);
for (const [ch, letter] of LEET) {
  LEET_CHAR[ch.charCodeAt(0)] = 1;
  LEET_CODE[ch.charCodeAt(0)] = letter.charCodeAt(0);
}

/** Letters sort at or above 'a' in folded text; digits and @ $ below. */
function isLetter(code: number): boolean {
  return code >= 0x61 && CLASS[code] === WORD;
}

/** True for a char of folded text that belongs to a word (letters, digits, @ $). */
export function isWordCode(code: number): boolean {
  return CLASS[code] === WORD;
}

/** Word chars in `codes` from `i` on, counted up to 3. */
function wordRunAhead(codes: Uint16Array, i: number, n: number): number {
  let k = 0;
  while (i + k < n && k < 3 && CLASS[codes[i + k]!] === WORD) k++;
  return k;
}

function toStr(codes: Uint16Array, n: number): string {
  // UTF-16 code units in platform byte order; Node runs little-endian.
  return Buffer.from(codes.buffer, codes.byteOffset, n * 2).toString('utf16le');
}

// Scratch buffers reused by every call (normalization is synchronous). The
// text is copied out as a string and the chars are zeroed, so no prompt text
// lingers in them; the offset map is a view that the next call overwrites.
let scratchCodes = new Uint16Array(16384);
let scratchOrigin = new Int32Array(16385);

function ensureScratch(size: number): void {
  if (size <= scratchCodes.length) return;
  const next = Math.max(size, scratchCodes.length * 2);
  const c = new Uint16Array(next);
  c.set(scratchCodes);
  const o = new Int32Array(next + 1);
  o.set(scratchOrigin);
  scratchCodes = c;
  scratchOrigin = o;
}

/**
 * Normalizes `text` for rule matching. Pass 1 folds each code point; pass 2
 * collapses whitespace and removes joiners between word chars (`ig.no.re`,
 * `i-g-n-o-r-e`, `don't`), turning joiners between longer words into a
 * space (`ignore-previous-instructions`), and joins letters spaced out one
 * by one (`i g n o r e`).
 */
export function normalize(text: string): NormalizedText {
  const len = text.length;
  ensureScratch(len + 16);
  let codes = scratchCodes;
  let origin = scratchOrigin;
  let n = 0;
  let scripts = 0;
  const runs: number[] = [];
  let runStart = -1;
  // Pure ASCII (most traffic): pass 1 is a native lower-case copy, offsets
  // are the identity, and payload runs are tracked in pass 2.
  const ascii = !NON_ASCII.test(text);
  if (ascii) {
    Buffer.from(codes.buffer, codes.byteOffset, len * 2).write(text.toLowerCase(), 'utf16le');
    n = len;
  }
  for (let i = ascii ? len : 0; i < len; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      if (RUN_CHAR[cp] === 1) {
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        if (i - runStart >= MIN_RUN) runs.push(runStart, i);
        runStart = -1;
      }
      codes[n] = cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp;
      origin[n++] = i;
      continue;
    }
    if (runStart >= 0) {
      if (i - runStart >= MIN_RUN) runs.push(runStart, i);
      runStart = -1;
    }
    const at = i;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < len) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = (cp - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000;
        i++;
      }
    }
    scripts |= scriptOf(cp);
    const f = fold(cp);
    // Room for this fold and one char per remaining input char.
    if (n + f.length + (len - i) + 1 > codes.length) {
      ensureScratch((n + f.length + (len - i)) * 2 + 16);
      codes = scratchCodes;
      origin = scratchOrigin;
    }
    for (let k = 0; k < f.length; k++) {
      codes[n] = f.charCodeAt(k);
      origin[n++] = at;
    }
  }

  if (runStart >= 0 && len - runStart >= MIN_RUN) runs.push(runStart, len);

  // Pass 2, in place: the write index never passes the read index.
  let w = 0;
  let leetish = false;
  let spaced = false;
  const joined: number[] = [];
  let joinedFrom = 0;
  for (let r = 0; r < n; r++) {
    const c = codes[r]!;
    if (ascii) {
      if (RUN_CHAR[c] === 1) {
        if (runStart < 0) runStart = r;
      } else if (runStart >= 0) {
        if (r - runStart >= MIN_RUN) runs.push(runStart, r);
        runStart = -1;
      }
    }
    const cls = CLASS[c];
    if (cls === WORD) {
      // A leet symbol between two letters (`y0u`, `pr0mpt`) makes a leetView worth it.
      if (c >= 0x61 && w > 1 && codes[w - 1]! < 0x61 && LEET_CHAR[codes[w - 1]!] === 1 && isLetter(codes[w - 2]!)) leetish = true;
      codes[w] = c;
      origin[w++] = ascii ? r : origin[r]!;
      continue;
    }
    if (cls === SPACE) {
      let e = r + 1;
      while (e < n && CLASS[codes[e]!] === SPACE) e++;
      // A single space between single letters is inside a spaced-out word (`i g n o r e`).
      const prevSingle: boolean = w > 0 && CLASS[codes[w - 1]!] === WORD && (spaced || w < 2 || CLASS[codes[w - 2]!] !== WORD);
      const nextSingle = e < n && CLASS[codes[e]!] === WORD && (e + 1 >= n || CLASS[codes[e + 1]!] !== WORD);
      const joins: boolean = e - r === 1 && prevSingle && nextSingle && (spaced || (e + 3 <= n && codes[e + 1] === SP && CLASS[codes[e + 2]!] === WORD && (e + 3 === n || CLASS[codes[e + 3]!] !== WORD)));
      if (joins && !spaced) joinedFrom = w - 1;
      else if (!joins && spaced) joined.push(joinedFrom, w);
      spaced = joins;
      if (!joins && w > 0 && codes[w - 1] !== SP) {
        codes[w] = SP;
        origin[w++] = ascii ? r : origin[r]!;
      }
      r = e - 1;
      continue;
    }
    if (cls === JOINER && w > 0 && CLASS[codes[w - 1]!] === WORD && r + 1 < n && CLASS[codes[r + 1]!] === WORD) {
      let before = 0;
      while (before < 3 && w - 1 - before >= 0 && CLASS[codes[w - 1 - before]!] === WORD) before++;
      const after = wordRunAhead(codes, r + 1, n);
      if (spaced) joined.push(joinedFrom, w);
      spaced = false;
      if (before > 2 && after > 2 && c !== 0x27 && c !== 0x2019) {
        codes[w] = SP;
        origin[w++] = ascii ? r : origin[r]!;
      }
      continue;
    }
    if (spaced) joined.push(joinedFrom, w);
    spaced = false;
    codes[w] = c;
    origin[w++] = ascii ? r : origin[r]!;
  }
  if (ascii && runStart >= 0 && n - runStart >= MIN_RUN) runs.push(runStart, n);
  if (spaced) joined.push(joinedFrom, w);
  if (w > 0 && codes[w - 1] === SP) w--;

  origin[w] = len;
  // A view of the scratch buffer: valid until the next normalize call.
  const map = origin.subarray(0, w + 1);
  const out = toStr(codes, w);
  codes.fill(0, 0, n);
  return { text: out, map, scripts, runs, leetish, joined };
}


/**
 * The leetspeak view of normalized text (`1gn0r3` → `ignore`): each leet
 * symbol next to a letter becomes the letter it stands for, left to right, so
 * runs like `5y573m` resolve. One char for one char: the offset map of the
 * normalized text still applies. Undefined when nothing changed.
 */
export function leetView(normalized: string): string | undefined {
  const n = normalized.length;
  ensureScratch(n + 16);
  const out = scratchCodes;
  let changed = false;
  for (let i = 0; i < n; i++) {
    const c = normalized.charCodeAt(i);
    out[i] = c;
    if (c >= 0x80 || LEET_CHAR[c] === 0) continue;
    if ((i > 0 && isLetter(out[i - 1]!)) || (i + 1 < n && isLetter(normalized.charCodeAt(i + 1)))) {
      out[i] = LEET_CODE[c]!;
      changed = true;
    }
  }
  const view = changed ? toStr(out, n) : undefined;
  out.fill(0, 0, n);
  return view;
}

/** rot13 of the ASCII letters, for prompts that hide their instructions that way. */
export function rot13(text: string): string {
  const n = text.length;
  ensureScratch(n + 16);
  const out = scratchCodes;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    out[i] = c >= 0x61 && c <= 0x7a ? ((c - 0x61 + 13) % 26) + 0x61 : c;
  }
  const view = toStr(out, n);
  out.fill(0, 0, n);
  return view;
}
