import { encodeModule, op, type Code } from './wasm-encode.js';

// The prefilter's automaton walk for text it counts spaces in (the
// exfiltration rules' normalized text), as WebAssembly. The same walk in
// JavaScript spent most of each character on V8's checks of the typed
// arrays it reads (their map, length and data pointer, at every character);
// in WebAssembly a load is a load. Two lanes, as in the JavaScript walk: the
// text's halves at once, lane b started a longest keyword early so it is in
// the right state at the half (see prefilter.ts).
//
// Memory, one per prefilter: the class of each UTF-16 code unit (u16:
// class × 4 | 1024 for the space), the transition table (i32: the next
// state's row in bytes, bit-inverted when keywords end there), then the text
// chunk, each lane's hits (state row, end, spaces: three i32s) and the
// results.

/** Code units walked per call; longer text is walked chunk after chunk. */
export const CHUNK = 16384;
const CLASS_BYTES = 0x10000 * 2;
const SPACE_BIT = 1024;
const CLASS_MASK = SPACE_BIT - 1;
const PAGE = 65536;

// walk1(from, to, row, spaces, text, lane, out): one lane over text[from, to).
// Writes the hit bytes, the end row and the space count to out[0..2].
const W1 = { from: 0, to: 1, row: 2, spaces: 3, text: 4, lane: 5, out: 6, p: 7, end: 8, x: 9, v: 10, l: 11 };
const walk1: Code = [
  ...op.set(W1.p, op.add(op.get(W1.text), op.shl(op.get(W1.from), op.const(1)))),
  ...op.set(W1.end, op.add(op.get(W1.text), op.shl(op.get(W1.to), op.const(1)))),
  ...op.set(W1.l, op.get(W1.lane)),
  ...op.block(
    'done',
    op.loop(
      'char',
      op.brIf(op.geU(op.get(W1.p), op.get(W1.end)), 'done'),
      op.set(W1.x, op.load16(op.shl(op.load16(op.get(W1.p)), op.const(1)))),
      op.set(W1.spaces, op.add(op.get(W1.spaces), op.shrU(op.get(W1.x), op.const(10)))),
      op.set(W1.v, op.load(op.add(op.get(W1.row), op.and(op.get(W1.x), op.const(CLASS_MASK))), CLASS_BYTES)),
      op.if(
        op.ltS(op.get(W1.v), op.const(0)),
        [
          ...op.set(W1.row, op.xor(op.get(W1.v), op.const(-1))),
          ...storeHit(W1.l, op.get(W1.row), op.get(W1.p), op.get(W1.text), op.get(W1.spaces)),
        ],
        op.set(W1.row, op.get(W1.v)),
      ),
      op.set(W1.p, op.add(op.get(W1.p), op.const(2))),
      op.br('char'),
    ),
  ),
  ...op.store(op.get(W1.out), op.sub(op.get(W1.l), op.get(W1.lane))),
  ...op.store(op.get(W1.out), op.get(W1.row), 4),
  ...op.store(op.get(W1.out), op.get(W1.spaces), 8),
];

// walk2(n, row, spaces, text, laneA, laneB, out, maxLength): lane a from
// (row, spaces) over text[0, n/2), lane b over text[n/2, 2·(n/2)) with its
// space count from 0. Writes to out[0..5]: lane a's and lane b's hit bytes,
// lane b's row and spaces, lane a's spaces, and where lane b stopped.
const W2 = { n: 0, row: 1, spaces: 2, text: 3, laneA: 4, laneB: 5, out: 6, maxLength: 7, pa: 8, pb: 9, half: 10, rowA: 11, rowB: 12, spA: 13, spB: 14, xa: 15, xb: 16, va: 17, vb: 18, la: 19, lb: 20, v: 21 };
const walk2: Code = [
  ...op.set(W2.half, op.add(op.get(W2.text), op.shl(op.shrU(op.get(W2.n), op.const(1)), op.const(1)))),
  // Lane b's warm-up: the longest keyword less one char before the half.
  ...op.set(W2.pb, op.sub(op.get(W2.half), op.shl(op.sub(op.get(W2.maxLength), op.const(1)), op.const(1)))),
  ...op.block(
    'warm',
    op.loop(
      'char',
      op.brIf(op.geU(op.get(W2.pb), op.get(W2.half)), 'warm'),
      op.set(W2.v, op.load(op.add(op.get(W2.rowB), op.and(op.load16(op.shl(op.load16(op.get(W2.pb)), op.const(1))), op.const(CLASS_MASK))), CLASS_BYTES)),
      op.set(W2.rowB, op.xor(op.get(W2.v), op.shrS(op.get(W2.v), op.const(31)))),
      op.set(W2.pb, op.add(op.get(W2.pb), op.const(2))),
      op.br('char'),
    ),
  ),
  ...op.set(W2.pa, op.get(W2.text)),
  ...op.set(W2.rowA, op.get(W2.row)),
  ...op.set(W2.spA, op.get(W2.spaces)),
  ...op.set(W2.la, op.get(W2.laneA)),
  ...op.set(W2.lb, op.get(W2.laneB)),
  ...op.block(
    'done',
    op.loop(
      'char',
      op.brIf(op.geU(op.get(W2.pa), op.get(W2.half)), 'done'),
      op.set(W2.xa, op.load16(op.shl(op.load16(op.get(W2.pa)), op.const(1)))),
      op.set(W2.xb, op.load16(op.shl(op.load16(op.get(W2.pb)), op.const(1)))),
      op.set(W2.spA, op.add(op.get(W2.spA), op.shrU(op.get(W2.xa), op.const(10)))),
      op.set(W2.spB, op.add(op.get(W2.spB), op.shrU(op.get(W2.xb), op.const(10)))),
      op.set(W2.va, op.load(op.add(op.get(W2.rowA), op.and(op.get(W2.xa), op.const(CLASS_MASK))), CLASS_BYTES)),
      op.set(W2.vb, op.load(op.add(op.get(W2.rowB), op.and(op.get(W2.xb), op.const(CLASS_MASK))), CLASS_BYTES)),
      op.if(
        op.ltS(op.or(op.get(W2.va), op.get(W2.vb)), op.const(0)),
        [
          ...op.if(
            op.ltS(op.get(W2.va), op.const(0)),
            [...op.set(W2.rowA, op.xor(op.get(W2.va), op.const(-1))), ...storeHit(W2.la, op.get(W2.rowA), op.get(W2.pa), op.get(W2.text), op.get(W2.spA))],
            op.set(W2.rowA, op.get(W2.va)),
          ),
          ...op.if(
            op.ltS(op.get(W2.vb), op.const(0)),
            [...op.set(W2.rowB, op.xor(op.get(W2.vb), op.const(-1))), ...storeHit(W2.lb, op.get(W2.rowB), op.get(W2.pb), op.get(W2.text), op.get(W2.spB))],
            op.set(W2.rowB, op.get(W2.vb)),
          ),
        ],
        [...op.set(W2.rowA, op.get(W2.va)), ...op.set(W2.rowB, op.get(W2.vb))],
      ),
      op.set(W2.pa, op.add(op.get(W2.pa), op.const(2))),
      op.set(W2.pb, op.add(op.get(W2.pb), op.const(2))),
      op.br('char'),
    ),
  ),
  ...op.store(op.get(W2.out), op.sub(op.get(W2.la), op.get(W2.laneA))),
  ...op.store(op.get(W2.out), op.sub(op.get(W2.lb), op.get(W2.laneB)), 4),
  ...op.store(op.get(W2.out), op.get(W2.rowB), 8),
  ...op.store(op.get(W2.out), op.get(W2.spB), 12),
  ...op.store(op.get(W2.out), op.get(W2.spA), 16),
  ...op.store(op.get(W2.out), op.shrU(op.sub(op.get(W2.pb), op.get(W2.text)), op.const(1)), 20),
];

/** Appends (row, end, spaces) at the lane pointer in `local` and moves it on; `end` is one past the char at `at`. */
function storeHit(local: number, row: Code, at: Code, text: Code, spaces: Code): Code {
  return [
    ...op.store(op.get(local), row),
    ...op.store(op.get(local), op.add(op.shrU(op.sub(at, text), op.const(1)), op.const(1)), 4),
    ...op.store(op.get(local), spaces, 8),
    ...op.set(local, op.add(op.get(local), op.const(12))),
  ];
}

let compiled: WebAssembly.Module | undefined;

function walkModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(
    encodeModule([
      { name: 'walk1', params: 7, locals: 5, body: walk1 },
      { name: 'walk2', params: 8, locals: 14, body: walk2 },
    ]),
  );
  return compiled;
}

/** What a walk left: hits in the lanes (as ints), and where it ended. */
export interface WalkEnd {
  /** Ints of hits in lane a, then in lane b (0 for a one-lane walk). */
  laneAInts: number;
  laneBInts: number;
  /** The row and space count after the last char walked. */
  row: number;
  spaces: number;
  /** Two-lane walks: lane a's space count at the half, and where lane b stopped. */
  spacesA: number;
  stop: number;
}

export class CountingWalk {
  /** The text chunk, as code units. */
  readonly text: Uint16Array;
  /** The text chunk's bytes, for native copies of strings. */
  readonly textBytes: Buffer;
  /** The lanes' hits: (row in bytes, end in the chunk, spaces), three ints each. */
  readonly laneA: Int32Array;
  readonly laneB: Int32Array;
  private readonly results: Int32Array;
  private readonly walk1: (...args: number[]) => void;
  private readonly walk2: (...args: number[]) => void;
  private readonly textAt: number;
  private readonly laneAAt: number;
  private readonly laneBAt: number;
  private readonly resultsAt: number;
  private readonly ended: WalkEnd = { laneAInts: 0, laneBInts: 0, row: 0, spaces: 0, spacesA: 0, stop: 0 };

  /**
   * `classSpaced`: each code unit's class, plus 256 for the space;
   * `next[state × classes + class]`: the next state × classes,
   * bit-inverted when keywords end in it (prefilter.ts's tables).
   */
  constructor(
    classSpaced: Uint16Array,
    next: Int32Array,
    private readonly maxLength: number,
  ) {
    const tableAt = CLASS_BYTES;
    this.textAt = tableAt + next.length * 4;
    // A lane holds at most a hit per char of the chunk.
    this.laneAAt = this.textAt + CHUNK * 2;
    this.laneBAt = this.laneAAt + CHUNK * 12;
    this.resultsAt = this.laneBAt + CHUNK * 12;
    const memory = new WebAssembly.Memory({ initial: Math.ceil((this.resultsAt + 32) / PAGE) });
    const { buffer } = memory;
    const classes = new Uint16Array(buffer, 0, 0x10000);
    for (let u = 0; u < 0x10000; u++) classes[u] = ((classSpaced[u]! & 0xff) << 2) | (classSpaced[u]! >> 8 === 1 ? SPACE_BIT : 0);
    const table = new Int32Array(buffer, tableAt, next.length);
    for (let i = 0; i < next.length; i++) table[i] = next[i]! >= 0 ? next[i]! * 4 : ~(~next[i]! * 4);
    this.text = new Uint16Array(buffer, this.textAt, CHUNK);
    this.textBytes = Buffer.from(buffer, this.textAt, CHUNK * 2);
    this.laneA = new Int32Array(buffer, this.laneAAt, CHUNK * 3);
    this.laneB = new Int32Array(buffer, this.laneBAt, CHUNK * 3);
    this.results = new Int32Array(buffer, this.resultsAt, 8);
    const { exports } = new WebAssembly.Instance(walkModule(), { env: { memory } });
    this.walk1 = exports.walk1 as (...args: number[]) => void;
    this.walk2 = exports.walk2 as (...args: number[]) => void;
  }

  /**
   * Walks the first `n` code units of `text` from `row` (in bytes) with
   * `spaces` spaces before them, in two lanes if `twoLanes` (then the last
   * char is left when `n` is odd: see walkRest). The returned object is
   * reused by the next walk.
   */
  walk(n: number, row: number, spaces: number, twoLanes: boolean): WalkEnd {
    if (!twoLanes) return this.walkRest(0, n, row, spaces);
    const r = this.results;
    const e = this.ended;
    this.walk2(n, row, spaces, this.textAt, this.laneAAt, this.laneBAt, this.resultsAt, this.maxLength);
    e.laneAInts = r[0]! >> 2;
    e.laneBInts = r[1]! >> 2;
    e.row = r[2]!;
    e.spacesA = r[4]!;
    e.spaces = r[4]! + r[3]!;
    e.stop = r[5]!;
    return e;
  }

  /** One lane over text[from, n), into lane a (whose earlier hits must have been read). */
  walkRest(from: number, n: number, row: number, spaces: number): WalkEnd {
    const r = this.results;
    const e = this.ended;
    this.walk1(from, n, row, spaces, this.textAt, this.laneAAt, this.resultsAt);
    e.laneAInts = r[0]! >> 2;
    e.laneBInts = 0;
    e.row = r[1]!;
    e.spaces = r[2]!;
    e.stop = n;
    return e;
  }
}
