import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DETECTORS_DIR } from '../../paths.js';
import { COMPLEX, CollapseScratch, JOINER, SPACE, WORD, type Collapsed } from './collapse.js';
import { MIN_RUN, RUN_CHAR } from './decode.js';

// Turns prompt text into the one form the extraction rules are written
// against: NFKC, lower case, no diacritics, confusables mapped to Latin,
// invisible characters removed (Unicode tag characters decoded: "ASCII
// smuggling"), whitespace collapsed, letters separated by spaces or
// punctuation joined back into words. `map[i]` is the offset in the original
// text of normalized char i, so findings point at the original.

/** Where each char of a view of the text came from. */
export interface OffsetMap {
  /** Original UTF-16 offset of char `i` (0 ≤ i ≤ length: the last is the original length). */
  offset(i: number): number;
}

export interface NormalizedText extends OffsetMap {
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
// 1 for the leet symbols (digits and @ $ that stand for letters), over all 16-bit codes.
const LEET_CHAR = new Uint8Array(0x10000);
const LEET_CODE = new Uint16Array(0x80);
for (const [ch, letter] of LEET) {
  LEET_CHAR[ch.charCodeAt(0)] = 1;
  LEET_CODE[ch.charCodeAt(0)] = letter.charCodeAt(0);
}

// Scratch buffers reused by every call (normalization is synchronous), in
// the collapse's memory. The text is copied out as a string and the chars
// are zeroed, so no prompt text lingers in them; the offset map is a view
// that the next call overwrites. Read the views from `scratch` after each
// ensure: growing replaces them.
const scratch = new CollapseScratch(CLASS, LEET_CHAR, RUN_CHAR, Uint8Array.from({ length: 0x10000 }, (_, u) => scriptOf(u)));

// scratch.fold: the fold of each BMP code unit that folds to exactly one
// code unit, so most text is folded and collapsed in one pass. COMPLEX marks
// units that fold to none or several (invisible chars, ligatures,
// surrogates); 0 marks units not looked at yet (ASCII is filled in up front,
// the rest on first sight).
for (let c = 0; c < 0x80; c++) scratch.fold[c] = bmpFold[c]!.charCodeAt(0);
scratch.fold.fill(COMPLEX, 0xd800, 0xe000);

function unitFold(unit: number): number {
  const folds = scratch.fold;
  let f = folds[unit]!;
  if (f === 0) {
    const s = fold(unit);
    folds[unit] = f = s.length === 1 ? s.charCodeAt(0) : COMPLEX;
  }
  return f;
}

/** Letters sort at or above 'a' in folded text; digits and @ $ below. */
function isLetter(code: number): boolean {
  return code >= 0x61 && CLASS[code] === WORD;
}

/** True for a char of folded text that belongs to a word (letters, digits, @ $). */
export function isWordCode(code: number): boolean {
  return CLASS[code] === WORD;
}

function toStr(n: number): string {
  // UTF-16 code units in platform byte order; Node runs little-endian.
  return scratch.codeBytes.toString('utf16le', 0, n * 2);
}

/**
 * Folds `text` code point by code point into the scratch buffers, for text
 * whose folds change its length; `runs` gets the payload runs. Returns the
 * folded length and the scripts seen.
 */
function foldCodePoints(text: string, runs: number[]): { n: number; scripts: number } {
  const len = text.length;
  let codes = scratch.codes;
  let origin = scratch.origin;
  let folds = scratch.fold;
  let n = 0;
  let scripts = 0;
  let runStart = -1;
  for (let i = 0; i < len; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      if (RUN_CHAR[cp] === 1) {
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        if (i - runStart >= MIN_RUN) runs.push(runStart, i);
        runStart = -1;
      }
      codes[n] = folds[cp]!;
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
      scratch.ensure((n + f.length + (len - i)) * 2 + 16);
      codes = scratch.codes;
      origin = scratch.origin;
      folds = scratch.fold;
    }
    for (let k = 0; k < f.length; k++) {
      codes[n] = f.charCodeAt(k);
      origin[n++] = at;
    }
  }
  if (runStart >= 0 && len - runStart >= MIN_RUN) runs.push(runStart, len);
  return { n, scripts };
}

/** The offset map from collapse's shifts: output index plus the distance in force there. */
function offsetsFromShifts(shifts: readonly number[], length: number, sourceLength: number): Int32Array {
  const map = new Int32Array(length + 1);
  let shift = 0;
  for (let i = 0, k = 0; i < length; i++) {
    while (k < shifts.length && shifts[k]! <= i) {
      shift = shifts[k + 1]!;
      k += 2;
    }
    map[i] = i + shift;
  }
  map[length] = sourceLength;
  return map;
}

class Normalized implements NormalizedText {
  private offsets: Int32Array | undefined;

  constructor(
    readonly text: string,
    readonly scripts: number,
    readonly runs: readonly number[],
    readonly leetish: boolean,
    readonly joined: readonly number[],
    private readonly sourceLength: number,
    /** Shifts to build the map from when it is first asked for; undefined when `offsets` is given. */
    private readonly shifts: readonly number[] | undefined,
    offsets?: Int32Array,
  ) {
    this.offsets = offsets;
  }

  /** Built on first use: most texts match no rule and never need it. */
  get map(): Int32Array {
    return (this.offsets ??= offsetsFromShifts(this.shifts!, this.text.length, this.sourceLength));
  }

  offset(i: number): number {
    if (this.offsets) return this.offsets[i]!;
    if (i >= this.text.length) return this.sourceLength;
    // The last shift at or before i, by binary search over the (index, distance) pairs.
    const shifts = this.shifts!;
    let lo = 0;
    let hi = shifts.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (shifts[mid * 2]! <= i) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? i : i + shifts[lo * 2 - 1]!;
  }
}

/**
 * Normalizes `text` for rule matching: folds each code point, then
 * collapses the result (see collapse.ts). Text whose code units each fold to
 * one unit (nearly all of it) takes a single pass over a native copy of it.
 * `visit`, when given, reads the normalized text's code units,
 * units[0, length), before the scratch that holds them is cleared.
 */
export function normalize(text: string, visit?: (units: Uint16Array, length: number) => void): NormalizedText {
  const len = text.length;
  scratch.ensure(len + 16);
  scratch.codeBytes.write(text, 0, len * 2, 'utf16le');
  // Equal lengths: pure ASCII, which always folds one unit to one.
  let scripts = Buffer.byteLength(text, 'utf8') === len ? 0 : scratch.scriptsIfOneToOne(len, unitFold);
  const runs: number[] = [];
  const direct = scripts >= 0;
  let n = len;
  if (!direct) ({ n, scripts } = foldCodePoints(text, runs));
  const shifts = direct ? [] : undefined;
  const { length, leetish, joined, openRun }: Collapsed = scratch.collapse(n, direct, runs, shifts);
  if (openRun >= 0 && len - openRun >= MIN_RUN) runs.push(openRun, len);
  const out = toStr(length);
  visit?.(scratch.codes, length);
  scratch.codes.fill(0, 0, Math.max(n, len));
  if (shifts) return new Normalized(out, scripts, runs, leetish, joined, len, shifts);
  scratch.origin[length] = len;
  // A view of the scratch buffer: valid until the next normalize call.
  return new Normalized(out, scripts, runs, leetish, joined, len, undefined, scratch.origin.subarray(0, length + 1));
}

/**
 * The leetspeak view of normalized text (`1gn0r3` → `ignore`): each leet
 * symbol next to a letter becomes the letter it stands for, left to right, so
 * runs like `5y573m` resolve. One char for one char: the offset map of the
 * normalized text still applies. Undefined when nothing changed.
 */
export function leetView(normalized: string): string | undefined {
  const n = normalized.length;
  scratch.ensure(n + 16);
  const out = scratch.codes;
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
  const view = changed ? toStr(n) : undefined;
  out.fill(0, 0, n);
  return view;
}

/** rot13 of the ASCII letters, for prompts that hide their instructions that way. */
export function rot13(text: string): string {
  const n = text.length;
  scratch.ensure(n + 16);
  const out = scratch.codes;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    out[i] = c >= 0x61 && c <= 0x7a ? ((c - 0x61 + 13) % 26) + 0x61 : c;
  }
  const view = toStr(n);
  out.fill(0, 0, n);
  return view;
}
