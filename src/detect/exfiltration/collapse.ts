import { encodeModule, op, type Code } from '../engine/wasm-encode.js';
import { MIN_RUN } from './decode.js';

// The collapse step of normalization (see normalize.ts) in WebAssembly, over
// scratch buffers that live in its memory: the JavaScript loop spent most of
// each character on V8's checks of the typed arrays it read and wrote. What
// it does, char by char, over the first n code units of the scratch text,
// each read through a unit table (its one-unit fold, or itself when the text
// is folded already), writing the result in place:
// - whitespace runs become one space;
// - a joiner (. - _ ' …) between word chars is removed (`ig.no.re`,
//   `don't`), or made a space between two longer words
//   (`ignore-previous-instructions`);
// - letters spaced out one by one (`i g n o r e`) are joined, and the joined
//   spans listed;
// - a leet symbol between two letters (`y0u`) is noted;
// - lower-case ASCII words joined by single spaces, most text, are copied
//   over in one go, the next word's capital made lower case on the way.
// `direct` text is the original text, one unit per char: its offsets are its
// indexes, so only the places where the distance between output and input
// index changes are listed (shifts), and the runs that may be encoded
// payloads are found on the way. Otherwise each unit's original offset is in
// the origin buffer and is carried along.

export const WORD = 1;
export const SPACE = 2;
export const JOINER = 3;
/** Flag bits over the class, per code unit; the unit's SCRIPT_* bits are above them. */
const LEET = 4;
const RUN = 8;
const SCRIPT_SHIFT = 4;
/** The fold table's mark of a unit that folds to none or several units. */
export const COMPLEX = 0xffff;
const SP = 0x20;

// Memory: per code unit, its class and flags (u8), its fold (u16) and
// itself (u16, the unit table of folded text); then the scratch.
const FLAGS_AT = 0;
const FOLD_AT = 0x10000;
const SAME_AT = FOLD_AT + 0x20000;
const SCRATCH_AT = SAME_AT + 0x20000;
const PAGE = 65536;

// collapse(n, direct, codes, origin, unit, runs, joined, shifts, out)
const L = {
  n: 0, direct: 1, codes: 2, origin: 3, unit: 4, runs: 5, joined: 6, shifts: 7, out: 8,
  r: 9, w: 10, shift: 11, leetish: 12, spaced: 13, joinedFrom: 14, runStart: 15, raw: 16, c: 17, cls: 18,
  e: 19, p: 20, s: 21, x: 22, before: 23, after: 24, runsAt: 25, joinedAt: 26, shiftsAt: 27, joins: 28, runEnd: 29,
};
const PARAMS = 9;

const get = op.get;
const k = op.const;
const codeAt = (i: Code): Code => op.load16(op.add(get(L.codes), op.shl(i, k(1))));
const setCode = (i: Code, v: Code): Code => op.store16(op.add(get(L.codes), op.shl(i, k(1))), v);
const originAt = (i: Code): Code => op.load(op.add(get(L.origin), op.shl(i, k(2))));
const unitOf = (u: Code): Code => op.load16(op.add(get(L.unit), op.shl(u, k(1))));
const classOf = (u: Code): Code => op.and(op.load8(u, FLAGS_AT), k(3));
const flag = (u: Code, bit: number): Code => op.ne(op.and(op.load8(u, FLAGS_AT), k(bit)), k(0));
const isWord = (u: Code): Code => op.eq(classOf(u), k(WORD));
const isLower = (u: Code): Code => op.ltU(op.sub(u, k(0x61)), k(26));
/** A letter of folded text: word chars at or above 'a' (digits and @ $ sort below). */
const isLetter = (u: Code): Code => op.and(op.geU(u, k(0x61)), isWord(u));
const not = (cond: Code): Code => op.eqz(cond);

/** Appends (a, b) to the list whose write pointer is `local`. */
function push(local: number, a: Code, b: Code): Code {
  return [...op.store(get(local), a), ...op.store(get(local), b, 4), ...op.inc(local, 8)];
}

/** Writes unit `v` at the output index, carrying the original offset of input index `from` when not direct. */
function emit(v: Code, from: Code): Code {
  return [
    ...op.if(not(get(L.direct)), op.store(op.add(get(L.origin), op.shl(get(L.w), k(2))), originAt(from))),
    ...setCode(get(L.w), v),
    ...op.inc(L.w),
  ];
}

/** Closes the spaced-out span in progress, if any. */
const endSpaced: Code = [...op.if(get(L.spaced), push(L.joinedAt, get(L.joinedFrom), get(L.w))), ...op.set(L.spaced, k(0))];

/** Notes where the distance between input index `input` and the output index changes (direct text). */
function noteShift(input: Code): Code {
  return op.if(op.and(get(L.direct), op.ne(op.sub(input, get(L.w)), get(L.shift))), [
    ...op.set(L.shift, op.sub(input, get(L.w))),
    ...push(L.shiftsAt, get(L.w), get(L.shift)),
  ]);
}

/**
 * Copies the lower-case ASCII letters from input index e on to the output
 * (their own fold, word chars, payload-run chars: most text), moving e and w
 * past them; the text ends in a 0 stop.
 */
function copyLower(name: string): Code {
  return op.block(
    name,
    op.loop(`${name}-char`, op.set(L.x, codeAt(get(L.e))), op.brIf(not(isLower(get(L.x))), name), emit(get(L.x), get(L.e)), op.inc(L.e), op.br(`${name}-char`)),
  );
}

const wordChar: Code = [
  // A leet symbol between two letters (`y0u`, `pr0mpt`) makes a leet view worth it.
  ...op.if(
    op.and(op.geU(get(L.c), k(0x61)), op.gtS(get(L.w), k(1))),
    op.if(
      op.ltU(codeAt(op.sub(get(L.w), k(1))), k(0x61)),
      op.if(op.and(flag(codeAt(op.sub(get(L.w), k(1))), LEET), isLetter(codeAt(op.sub(get(L.w), k(2))))), op.set(L.leetish, k(1))),
    ),
  ),
  ...emit(get(L.c), get(L.r)),
  // Letters of other scripts that follow (one-to-one folds): no leet symbol
  // or payload run is among them; copied over folded.
  ...op.if(op.and(op.geU(get(L.raw), k(0x80)), op.geU(get(L.c), k(0x61))), [
    ...op.set(L.e, op.add(get(L.r), k(1))),
    ...op.block(
      'foreign',
      op.loop(
        'foreign-char',
        op.brIf(op.geS(get(L.e), get(L.n)), 'foreign'),
        op.set(L.x, codeAt(get(L.e))),
        op.brIf(op.ltU(get(L.x), k(0x80)), 'foreign'),
        op.set(L.x, unitOf(get(L.x))),
        op.brIf(op.or(op.ltU(get(L.x), k(0x61)), not(isWord(get(L.x)))), 'foreign'),
        emit(get(L.x), get(L.e)),
        op.inc(L.e),
        op.br('foreign-char'),
      ),
    ),
    ...op.set(L.r, op.sub(get(L.e), k(1))),
    ...op.br('next'),
  ]),
  ...op.set(L.e, op.add(get(L.r), k(1))),
  ...op.brIf(not(isLower(codeAt(get(L.e)))), 'next'),
  ...op.if(
    op.and(op.ltU(get(L.c), k(0x61)), op.gtS(get(L.w), k(1))),
    op.if(op.and(flag(get(L.c), LEET), isLetter(codeAt(op.sub(get(L.w), k(2))))), op.set(L.leetish, k(1))),
  ),
  ...op.if(op.and(get(L.direct), op.ltS(get(L.runStart), k(0))), op.set(L.runStart, get(L.e))),
  ...copyLower('lower'),
  // So is the plain join of this word to a next one of two letters or more:
  // at most one punctuation mark, then one whitespace char (made a space).
  // Neither word is a spaced-out letter; the next may start with a capital
  // (made lower case).
  ...op.block(
    'joins',
    op.loop(
      'join',
      op.set(L.p, codeAt(get(L.e))),
      op.set(L.s, get(L.e)),
      op.if(
        op.and(op.ltS(get(L.e), get(L.n)), op.ltU(get(L.p), k(0x80))),
        op.if(op.and(op.ne(classOf(get(L.p)), k(WORD)), op.ne(classOf(get(L.p)), k(SPACE))), op.set(L.s, op.add(get(L.e), k(1)))),
      ),
      op.brIf(op.geS(op.add(get(L.s), k(2)), get(L.n)), 'joins'),
      op.set(L.x, codeAt(get(L.s))),
      op.brIf(op.or(op.geU(get(L.x), k(0x80)), op.ne(classOf(get(L.x)), k(SPACE))), 'joins'),
      op.brIf(not(isLower(op.or(codeAt(op.add(get(L.s), k(1))), k(0x20)))), 'joins'),
      op.brIf(not(isLower(codeAt(op.add(get(L.s), k(2))))), 'joins'),
      op.if(get(L.direct), [
        ...op.set(L.runEnd, get(L.e)),
        ...op.if(op.and(op.gtS(get(L.s), get(L.e)), flag(get(L.p), RUN)), op.set(L.runEnd, get(L.s))),
        ...op.if(op.geS(op.sub(get(L.runEnd), get(L.runStart)), k(MIN_RUN)), push(L.runsAt, get(L.runStart), get(L.runEnd))),
        ...op.set(L.runStart, op.add(get(L.s), k(1))),
      ]),
      op.if(op.gtS(get(L.s), get(L.e)), emit(get(L.p), get(L.e))),
      emit(k(SP), get(L.s)),
      emit(op.or(codeAt(op.add(get(L.s), k(1))), k(0x20)), op.add(get(L.s), k(1))),
      op.set(L.e, op.add(get(L.s), k(2))),
      copyLower('lower-next'),
      op.br('join'),
    ),
  ),
  ...op.set(L.r, op.sub(get(L.e), k(1))),
  ...op.br('next'),
];

/** Class of the unit at input index `i`, read through the unit table. */
const inputClass = (i: Code): Code => classOf(unitOf(codeAt(i)));

const spaceChar: Code = [
  ...op.set(L.e, op.add(get(L.r), k(1))),
  ...op.block('blanks', op.loop('blank', op.brIf(op.or(op.geS(get(L.e), get(L.n)), op.ne(inputClass(get(L.e)), k(SPACE))), 'blanks'), op.inc(L.e), op.br('blank'))),
  // A single space between single letters is inside a spaced-out word (`i g n o r e`).
  ...op.set(
    L.joins,
    op.and(
      op.and(
        op.eq(op.sub(get(L.e), get(L.r)), k(1)),
        // The letter before is a single one…
        op.and(
          op.and(op.gtS(get(L.w), k(0)), isWord(codeAt(op.sub(get(L.w), k(1))))),
          op.or(op.or(get(L.spaced), op.ltS(get(L.w), k(2))), not(isWord(codeAt(op.sub(get(L.w), k(2)))))),
        ),
      ),
      op.and(
        // …and so is the one after…
        op.and(
          op.and(op.ltS(get(L.e), get(L.n)), op.eq(inputClass(get(L.e)), k(WORD))),
          op.or(op.geS(op.add(get(L.e), k(1)), get(L.n)), op.ne(inputClass(op.add(get(L.e), k(1))), k(WORD))),
        ),
        // …and a span is in progress, or a third single letter follows.
        op.or(
          get(L.spaced),
          op.and(
            op.and(op.leS(op.add(get(L.e), k(3)), get(L.n)), op.eq(unitOf(codeAt(op.add(get(L.e), k(1)))), k(SP))),
            op.and(
              op.eq(inputClass(op.add(get(L.e), k(2))), k(WORD)),
              op.or(op.eq(op.add(get(L.e), k(3)), get(L.n)), op.ne(inputClass(op.add(get(L.e), k(3))), k(WORD))),
            ),
          ),
        ),
      ),
    ),
  ),
  ...op.if(
    op.and(get(L.joins), not(get(L.spaced))),
    op.set(L.joinedFrom, op.sub(get(L.w), k(1))),
    op.if(op.and(not(get(L.joins)), get(L.spaced)), push(L.joinedAt, get(L.joinedFrom), get(L.w))),
  ),
  ...op.set(L.spaced, get(L.joins)),
  ...op.if(op.and(not(get(L.joins)), op.gtS(get(L.w), k(0))), op.if(op.ne(codeAt(op.sub(get(L.w), k(1))), k(SP)), emit(k(SP), get(L.r)))),
  ...op.set(L.r, op.sub(get(L.e), k(1))),
  ...noteShift(get(L.e)),
  ...op.br('next'),
];

const joinerChar: Code = [
  ...op.set(L.before, k(0)),
  ...op.block(
    'before',
    op.loop(
      'back',
      op.brIf(op.geS(get(L.before), k(3)), 'before'),
      op.brIf(op.ltS(op.sub(op.sub(get(L.w), k(1)), get(L.before)), k(0)), 'before'),
      op.brIf(not(isWord(codeAt(op.sub(op.sub(get(L.w), k(1)), get(L.before))))), 'before'),
      op.inc(L.before),
      op.br('back'),
    ),
  ),
  ...op.set(L.after, k(0)),
  ...op.block(
    'after',
    op.loop(
      'ahead',
      op.brIf(op.geS(op.add(op.add(get(L.r), k(1)), get(L.after)), get(L.n)), 'after'),
      op.brIf(op.geS(get(L.after), k(3)), 'after'),
      op.brIf(op.ne(inputClass(op.add(op.add(get(L.r), k(1)), get(L.after))), k(WORD)), 'after'),
      op.inc(L.after),
      op.br('ahead'),
    ),
  ),
  ...endSpaced,
  ...op.if(
    op.and(op.and(op.gtS(get(L.before), k(2)), op.gtS(get(L.after), k(2))), op.and(op.ne(get(L.c), k(0x27)), op.ne(get(L.c), k(0x2019)))),
    emit(k(SP), get(L.r)),
  ),
  ...noteShift(op.add(get(L.r), k(1))),
  ...op.br('next'),
];

const collapseBody: Code = [
  // A stop for the scans over lower-case letters, which then need no length test.
  ...setCode(get(L.n), k(0)),
  ...op.set(L.runsAt, get(L.runs)),
  ...op.set(L.joinedAt, get(L.joined)),
  ...op.set(L.shiftsAt, get(L.shifts)),
  ...op.set(L.runStart, k(-1)),
  ...op.block(
    'end',
    op.loop(
      'char',
      op.brIf(op.geS(get(L.r), get(L.n)), 'end'),
      op.block(
        'next',
        op.set(L.raw, codeAt(get(L.r))),
        op.if(
          get(L.direct),
          op.if(
            flag(get(L.raw), RUN),
            op.if(op.ltS(get(L.runStart), k(0)), op.set(L.runStart, get(L.r))),
            op.if(op.geS(get(L.runStart), k(0)), [
              ...op.if(op.geS(op.sub(get(L.r), get(L.runStart)), k(MIN_RUN)), push(L.runsAt, get(L.runStart), get(L.r))),
              ...op.set(L.runStart, k(-1)),
            ]),
          ),
        ),
        op.set(L.c, unitOf(get(L.raw))),
        op.set(L.cls, classOf(get(L.c))),
        op.if(op.eq(get(L.cls), k(WORD)), wordChar),
        op.if(op.eq(get(L.cls), k(SPACE)), spaceChar),
        op.if(
          op.and(
            op.and(op.eq(get(L.cls), k(JOINER)), op.gtS(get(L.w), k(0))),
            op.and(isWord(codeAt(op.sub(get(L.w), k(1)))), op.and(op.ltS(op.add(get(L.r), k(1)), get(L.n)), op.eq(inputClass(op.add(get(L.r), k(1))), k(WORD)))),
          ),
          joinerChar,
        ),
        endSpaced,
        emit(get(L.c), get(L.r)),
      ),
      op.inc(L.r),
      op.br('char'),
    ),
  ),
  ...op.if(get(L.spaced), push(L.joinedAt, get(L.joinedFrom), get(L.w))),
  ...op.if(op.gtS(get(L.w), k(0)), op.if(op.eq(codeAt(op.sub(get(L.w), k(1))), k(SP)), op.set(L.w, op.sub(get(L.w), k(1))))),
  ...op.store(get(L.out), get(L.w)),
  ...op.store(get(L.out), get(L.leetish), 4),
  ...op.store(get(L.out), get(L.runStart), 8),
  ...op.store(get(L.out), op.shrU(op.sub(get(L.runsAt), get(L.runs)), k(2)), 12),
  ...op.store(get(L.out), op.shrU(op.sub(get(L.joinedAt), get(L.joined)), k(2)), 16),
  ...op.store(get(L.out), op.shrU(op.sub(get(L.shiftsAt), get(L.shifts)), k(2)), 20),
];

// scripts(from, n, codes, out): the SCRIPT_* bits of the non-ASCII units of
// codes[from, n) into out[1], and into out[0] -1 when every one of them
// folds to one unit, -2 when one folds to none or several, or the index of
// the first whose fold is not known yet.
const R = { from: 0, n: 1, codes: 2, out: 3, i: 4, u: 5, f: 6, scripts: 7 };
const scriptsBody: Code = [
  ...op.set(R.i, get(R.from)),
  ...op.block(
    'done',
    op.loop(
      'unit',
      op.brIf(op.geS(get(R.i), get(R.n)), 'done'),
      op.set(R.u, op.load16(op.add(get(R.codes), op.shl(get(R.i), k(1))))),
      op.if(op.geU(get(R.u), k(0x80)), [
        ...op.set(R.f, op.load16(op.shl(get(R.u), k(1)), FOLD_AT)),
        ...op.if(op.eqz(get(R.f)), [...op.store(get(R.out), get(R.i)), ...op.store(get(R.out), get(R.scripts), 4), ...op.return()]),
        ...op.if(op.eq(get(R.f), k(COMPLEX)), [...op.store(get(R.out), k(-2)), ...op.return()]),
        ...op.set(R.scripts, op.or(get(R.scripts), op.shrU(op.load8(get(R.u), FLAGS_AT), k(SCRIPT_SHIFT)))),
      ]),
      op.inc(R.i),
      op.br('unit'),
    ),
  ),
  ...op.store(get(R.out), k(-1)),
  ...op.store(get(R.out), get(R.scripts), 4),
];

let compiled: WebAssembly.Module | undefined;

export interface Collapsed {
  readonly length: number;
  readonly leetish: boolean;
  readonly joined: number[];
  /** Start of the payload run still open at the end of the text, or -1 (direct only). */
  readonly openRun: number;
}

/** Places of the scratch regions for a capacity of `units` code units. */
function layout(units: number) {
  const codes = SCRATCH_AT;
  // Room for the stop and for reads a few units past the end.
  const origin = codes + (units + 16) * 2;
  // Runs are 16 chars or more, spans of spaced letters 3 or more; a shift is noted at most once per char.
  const runs = origin + (units + 1) * 4;
  const joined = runs + (units / 4 + 8) * 4;
  const shifts = joined + (units + 8) * 4;
  const out = shifts + (units * 2 + 8) * 4;
  return { codes, origin, runs, joined, shifts, out, end: out + 32 };
}

/**
 * The scratch buffers of normalization and the collapse over them. The
 * views are replaced when the scratch grows (the memory's buffer changes):
 * read them from here after each `ensure`.
 */
export class CollapseScratch {
  codes: Uint16Array;
  origin: Int32Array;
  /** The bytes of `codes`, for native copies in and out. */
  codeBytes: Buffer;
  private capacity: number;
  private readonly memory: WebAssembly.Memory;
  private readonly collapseUnits: (...args: number[]) => void;
  private readonly scriptsOfUnits: (...args: number[]) => void;
  /**
   * Each BMP code unit's one-unit fold, COMPLEX, or 0 when not known yet:
   * normalize.ts fills it in as it meets units. The collapse and the scripts
   * scan read it.
   */
  fold: Uint16Array;
  private memoryInts: Int32Array;

  /**
   * `classes`: WORD, SPACE or JOINER (or 0) per code unit; `leet`: 1 for the
   * leet symbols; `runChar`: 1 for the ASCII chars of payload runs;
   * `scripts`: SCRIPT_* bits per code unit.
   */
  constructor(classes: Uint8Array, leet: Uint8Array, runChar: Uint8Array, scripts: Uint8Array, capacity = 16384) {
    this.capacity = capacity;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(layout(capacity).end / PAGE) });
    const bytes = new Uint8Array(this.memory.buffer);
    for (let u = 0; u < 0x10000; u++) {
      bytes[FLAGS_AT + u] = classes[u]! | (leet[u] === 1 ? LEET : 0) | (u < runChar.length && runChar[u] === 1 ? RUN : 0) | (scripts[u]! << SCRIPT_SHIFT);
    }
    const same = new Uint16Array(this.memory.buffer, SAME_AT, 0x10000);
    for (let u = 0; u < 0x10000; u++) same[u] = u;
    compiled ??= new WebAssembly.Module(
      encodeModule([
        { name: 'collapse', params: PARAMS, body: collapseBody },
        { name: 'scripts', params: 4, body: scriptsBody },
      ]),
    );
    const { exports } = new WebAssembly.Instance(compiled, { env: { memory: this.memory } });
    this.collapseUnits = exports.collapse as (...args: number[]) => void;
    this.scriptsOfUnits = exports.scripts as (...args: number[]) => void;
    ({ codes: this.codes, origin: this.origin, codeBytes: this.codeBytes, ints: this.memoryInts, fold: this.fold } = this.views());
  }

  private views() {
    const { buffer } = this.memory;
    const at = layout(this.capacity);
    return {
      codes: new Uint16Array(buffer, at.codes, this.capacity + 16),
      origin: new Int32Array(buffer, at.origin, this.capacity + 1),
      codeBytes: Buffer.from(buffer, at.codes, (this.capacity + 16) * 2),
      ints: new Int32Array(buffer),
      fold: new Uint16Array(buffer, FOLD_AT, 0x10000),
    };
  }

  /** Makes room for `units` code units, keeping the codes and origins held. */
  ensure(units: number): void {
    if (units <= this.capacity) return;
    const before = layout(this.capacity);
    // A multiple of 8, so that every region after the codes starts on an i32 boundary.
    const capacity = Math.ceil(Math.max(units, this.capacity * 2) / 8) * 8;
    const after = layout(capacity);
    const pages = Math.ceil(after.end / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (pages > 0) this.memory.grow(pages);
    // The origins move up with the end of the codes.
    new Uint8Array(this.memory.buffer).copyWithin(after.origin, before.origin, before.origin + (this.capacity + 1) * 4);
    this.capacity = capacity;
    ({ codes: this.codes, origin: this.origin, codeBytes: this.codeBytes, ints: this.memoryInts, fold: this.fold } = this.views());
  }

  /**
   * SCRIPT_* bits of the non-ASCII units in codes[0, n), or -1 when one of
   * them does not fold to exactly one unit. `learn` works out a unit's fold
   * (and records it in `fold`) when it is not known yet.
   */
  scriptsIfOneToOne(n: number, learn: (unit: number) => void): number {
    const at = layout(this.capacity);
    const out = at.out >> 2;
    let scripts = 0;
    for (let from = 0; ; ) {
      this.scriptsOfUnits(from, n, at.codes, at.out);
      const stop = this.memoryInts[out]!;
      if (stop === -2) return -1;
      // A scan that stopped at a unit not known yet gives the bits of the units before it.
      scripts |= this.memoryInts[out + 1]!;
      if (stop === -1) return scripts;
      learn(this.codes[stop]!);
      from = stop;
    }
  }

  /**
   * Collapses codes[0, n) in place. `direct`: the units are the original
   * text (folded through the fold table on the way), and `runs` and
   * `shifts` get the payload runs and the (output index, distance) pairs;
   * otherwise they are folded already and `origin` is carried along.
   */
  collapse(n: number, direct: boolean, runs: number[], shifts: number[] | undefined): Collapsed {
    const at = layout(this.capacity);
    this.collapseUnits(n, direct ? 1 : 0, at.codes, at.origin, direct ? FOLD_AT : SAME_AT, at.runs, at.joined, at.shifts, at.out);
    const ints = this.memoryInts;
    const out = at.out >> 2;
    const list = (from: number, count: number, into: number[]) => {
      for (let i = 0; i < count; i++) into.push(ints[(from >> 2) + i]!);
      return into;
    };
    list(at.runs, ints[out + 3]!, runs);
    if (shifts) list(at.shifts, ints[out + 5]!, shifts);
    return { length: ints[out]!, leetish: ints[out + 1] === 1, joined: list(at.joined, ints[out + 4]!, []), openRun: ints[out + 2]! };
  }
}
