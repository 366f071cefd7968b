import { encodeModule, op, type Code } from './wasm-encode.js';

// The prefilter's automaton walk for text it counts spaces in (the
// exfiltration rules' normalized text), as WebAssembly. The same walk in
// JavaScript spent most of each character on V8's checks of the typed
// arrays it reads (their map, length and data pointer, at every character);
// in WebAssembly a load is a load. Each load of the table waits on the one
// before, so the text is cut in stretches walked at once, in lanes: each lane
// but the first starts a longest keyword early, which is enough for it to be
// in the exact state the walk would have there (see prefilter.ts).
//
// Memory, one per prefilter: the class of each UTF-16 code unit (u16:
// class × 4 | 1024 for the space), the text chunk, the transition table
// (i32: the next state's row in bytes, bit-inverted when keywords end
// there), each lane's hits (state row, end, spaces: three i32s), the
// keywords that end in each state, the hits expanded into keywords, and the
// results. The text chunk is zeroed after each walk (prefilter.ts); the rest
// holds offsets and counts, never text.

/** Code units walked per call; longer text is walked chunk after chunk. */
export const CHUNK = 16384;
/** The char counted for each hit's word position. */
export const SPACE = 0x20;
const SPACE_BIT = 1024;
const CLASS_MASK = SPACE_BIT - 1;
const PAGE = 65536;
// Fixed places, so that loads of the text and of the table take their base
// as an immediate; the hits and results follow the table.
const TEXT_AT = 0x10000 * 2;
const TABLE_AT = TEXT_AT + CHUNK * 2;
/** Bytes between the hit regions of two lanes: each may hold a hit per char of the chunk. */
const LANE_STRIDE = CHUNK * 12;
/** The shortest stretch worth a lane of its own: below it, a lane's warm-up and bookkeeping cost more than they save. */
const MIN_STRETCH = 128;
const LANES = 2;

/**
 * walk(from, to, row, spaces, hits, out, maxLength) over text[from, to):
 * with one lane, all of it from (row, spaces); with more, `lanes` equal
 * stretches of it, two chars a step, lane 0 from (row, spaces) and each
 * other lane warmed up over the longest keyword less one char before its
 * stretch, its space count from 0 (the chars past the last whole step,
 * fewer than 2 × lanes, are left to the one-lane walk). Writes to out each
 * lane's hit bytes and spaces, then the last lane's row and where it
 * stopped.
 */
function walkIn(lanes: number): Code {
  const P = { from: 0, to: 1, row: 2, spaces: 3, hits: 4, out: 5, maxLength: 6 };
  let local = 7;
  const stretch = local++;
  const stop = local++;
  const warm = local++;
  const v = local++;
  const lane = Array.from({ length: lanes }, () => ({ at: local++, row: local++, sp: local++, x: local++, v: local++, l: local++ }));
  const get = op.get;
  const k = op.const;
  const step = lanes > 1 ? 2 : 1;
  const last = lane[lanes - 1]!;
  /** One char of a lane, `ahead` chars past its position. */
  const walkChar = (l: (typeof lane)[number], ahead: number): Code => [
    ...op.set(l.x, op.load16(op.shl(op.load16(get(l.at), TEXT_AT + ahead * 2), k(1)))),
    ...op.set(l.sp, op.add(get(l.sp), op.shrU(get(l.x), k(10)))),
    ...op.set(l.v, op.load(op.add(get(l.row), op.and(get(l.x), k(CLASS_MASK))), TABLE_AT)),
    ...op.if(
      op.ltS(get(l.v), k(0)),
      [
        ...op.set(l.row, op.xor(get(l.v), k(-1))),
        ...op.store(get(l.l), get(l.row)),
        // The hit's end: one past the char, whose byte offset is at + 2 × ahead.
        ...op.store(get(l.l), op.add(op.shrU(get(l.at), k(1)), k(ahead + 1)), 4),
        ...op.store(get(l.l), get(l.sp), 8),
        ...op.inc(l.l, 12),
      ],
      op.set(l.row, get(l.v)),
    ),
  ];
  return [
    // Positions are byte offsets into the text.
    ...op.set(stretch, op.shl(op.and(op.shrU(op.sub(get(P.to), get(P.from)), k(Math.log2(lanes))), k(-step)), k(1))),
    ...lane.flatMap((l, i) => [
      ...op.set(l.at, i === 0 ? op.shl(get(P.from), k(1)) : op.add(get(lane[i - 1]!.at), get(stretch))),
      ...op.set(l.l, op.add(get(P.hits), k(i * LANE_STRIDE))),
      ...op.set(l.row, i === 0 ? get(P.row) : k(0)),
      ...op.set(l.sp, i === 0 ? get(P.spaces) : k(0)),
    ]),
    ...op.set(stop, op.add(get(lane[0]!.at), get(stretch))),
    // Each other lane's warm-up: the longest keyword less one char before its stretch.
    ...lane.slice(1).flatMap((l, i) => [
      ...op.set(warm, op.sub(get(l.at), op.shl(op.sub(get(P.maxLength), k(1)), k(1)))),
      ...op.block(
        `warmed-${i}`,
        op.loop(
          `warm-${i}`,
          op.brIf(op.geU(get(warm), get(l.at)), `warmed-${i}`),
          op.set(v, op.load(op.add(get(l.row), op.and(op.load16(op.shl(op.load16(get(warm), TEXT_AT), k(1))), k(CLASS_MASK))), TABLE_AT)),
          op.set(l.row, op.xor(get(v), op.shrS(get(v), k(31)))),
          op.inc(warm, 2),
          op.br(`warm-${i}`),
        ),
      ),
    ]),
    ...op.block(
      'done',
      op.loop(
        'step',
        op.brIf(op.geU(get(lane[0]!.at), get(stop)), 'done'),
        ...Array.from({ length: step }, (_, ahead) => lane.flatMap((l) => walkChar(l, ahead))),
        lane.flatMap((l) => op.inc(l.at, step * 2)),
        op.br('step'),
      ),
    ),
    ...lane.flatMap((l, i) => [
      ...op.store(get(P.out), op.sub(get(l.l), op.add(get(P.hits), k(i * LANE_STRIDE))), i * 4),
      ...op.store(get(P.out), get(l.sp), (lanes + i) * 4),
    ]),
    ...op.store(get(P.out), get(last.row), lanes * 8),
    ...op.store(get(P.out), op.shrU(get(last.at), k(1)), lanes * 8 + 4),
  ];
}

/**
 * expand(lane, ints, offset, spaces, found, shift, inverse, outStart,
 * outputs, out): each of a lane's hits (row, end, spaces) as one
 * (keyword, end + offset, spaces + spaces) per keyword that ends in its
 * state, written from `found` on; the ints written go to out[0]. A row is
 * its state times the row size, so the state is the row divided by it:
 * shifted by the size's power of two and multiplied by the inverse of its
 * odd part modulo 2³², which is exact for multiples.
 */
const X = { lane: 0, ints: 1, offset: 2, spaces: 3, found: 4, shift: 5, inverse: 6, outStart: 7, outputs: 8, out: 9, h: 10, end: 11, st: 12, o: 13, e: 14, f: 15, hitEnd: 16, sp: 17 };
const expand: Code = (() => {
  const get = op.get;
  const k = op.const;
  return [
    ...op.set(X.f, get(X.found)),
    ...op.set(X.h, get(X.lane)),
    ...op.set(X.end, op.add(get(X.lane), op.shl(get(X.ints), k(2)))),
    ...op.block(
      'done',
      op.loop(
        'hit',
        op.brIf(op.geU(get(X.h), get(X.end)), 'done'),
        op.set(X.st, op.shl(op.mul(op.shrU(op.load(get(X.h)), get(X.shift)), get(X.inverse)), k(2))),
        op.set(X.o, op.load(op.add(get(X.outStart), get(X.st)))),
        op.set(X.e, op.load(op.add(get(X.outStart), get(X.st)), 4)),
        op.set(X.hitEnd, op.add(op.load(get(X.h), 4), get(X.offset))),
        op.set(X.sp, op.add(op.load(get(X.h), 8), get(X.spaces))),
        op.block(
          'keywords',
          op.loop(
            'keyword',
            op.brIf(op.geU(get(X.o), get(X.e)), 'keywords'),
            op.store(get(X.f), op.load(op.add(get(X.outputs), op.shl(get(X.o), k(2))))),
            op.store(get(X.f), get(X.hitEnd), 4),
            op.store(get(X.f), get(X.sp), 8),
            op.inc(X.f, 12),
            op.inc(X.o),
            op.br('keyword'),
          ),
        ),
        op.inc(X.h, 12),
        op.br('hit'),
      ),
    ),
    ...op.store(get(X.out), op.shrU(op.sub(get(X.f), get(X.found)), k(2))),
  ];
})();

let compiled: WebAssembly.Module | undefined;

function walkModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(
    encodeModule([
      ...[1, LANES].map((lanes) => ({ name: `walk${lanes}`, params: 7, body: walkIn(lanes) })),
      { name: 'expand', params: 10, body: expand },
    ]),
  );
  return compiled;
}

/** What a walk left: hits in the lanes (as ints), and where it ended. */
export interface WalkEnd {
  /** Lanes walked, and the ints of hits in each. */
  lanes: number;
  readonly laneInts: Int32Array;
  /** Spaces before each lane's stretch: to add to the counts of its hits. */
  readonly laneSpaces: Int32Array;
  /** The row and space count after the last char walked. */
  row: number;
  spaces: number;
  /** Where the walk stopped: a walk in lanes leaves a few chars (walk them in one lane). */
  stop: number;
}

export class CountingWalk {
  /** The text chunk, as code units. */
  readonly text: Uint16Array;
  /** The text chunk's bytes, for native copies of strings. */
  readonly textBytes: Buffer;
  /** The hits of the last expand: (keyword, end, spaces), three ints each. */
  readonly found: Int32Array;
  private readonly results: Int32Array;
  private readonly walkers: readonly ((...args: number[]) => void)[];
  private readonly expandLane: (...args: number[]) => void;
  private readonly hitsAt: number;
  private readonly outStartAt: number;
  private readonly outputsAt: number;
  private readonly foundAt: number;
  private readonly resultsAt: number;
  /** A row's state: the row shifted by this… */
  private readonly shift: number;
  /** …times this, modulo 2³². */
  private readonly inverse: number;
  private readonly ended: WalkEnd = { lanes: 1, laneInts: new Int32Array(LANES), laneSpaces: new Int32Array(LANES), row: 0, spaces: 0, stop: 0 };

  /**
   * `classOf`: each code unit's class (the space has one of its own);
   * `next[state × classes + class]`: the next state × classes,
   * bit-inverted when keywords end in it; `outputs[outStart[s] ..
   * outStart[s + 1])`: the keywords that end in state s (prefilter.ts's tables).
   */
  constructor(
    classOf: Uint8Array,
    next: Int32Array,
    classes: number,
    outStart: Int32Array,
    outputs: Int32Array,
    private readonly maxLength: number,
  ) {
    let mostOutputs = 0;
    for (let st = 0; st + 1 < outStart.length; st++) mostOutputs = Math.max(mostOutputs, outStart[st + 1]! - outStart[st]!);
    // Each char of the chunk ends at most one hit in its lane, each hit names at most mostOutputs keywords.
    const foundInts = CHUNK * Math.max(1, mostOutputs) * 3;
    this.hitsAt = TABLE_AT + next.length * 4;
    this.outStartAt = this.hitsAt + LANES * LANE_STRIDE;
    this.outputsAt = this.outStartAt + outStart.length * 4;
    this.foundAt = this.outputsAt + outputs.length * 4;
    this.resultsAt = this.foundAt + foundInts * 4;
    const memory = new WebAssembly.Memory({ initial: Math.ceil((this.resultsAt + 64) / PAGE) });
    const { buffer } = memory;
    const codeClasses = new Uint16Array(buffer, 0, 0x10000);
    for (let u = 0; u < 0x10000; u++) codeClasses[u] = (classOf[u]! << 2) | (u === SPACE ? SPACE_BIT : 0);
    const table = new Int32Array(buffer, TABLE_AT, next.length);
    for (let i = 0; i < next.length; i++) table[i] = next[i]! >= 0 ? next[i]! * 4 : ~(~next[i]! * 4);
    new Int32Array(buffer, this.outStartAt, outStart.length).set(outStart);
    new Int32Array(buffer, this.outputsAt, outputs.length).set(outputs);
    this.text = new Uint16Array(buffer, TEXT_AT, CHUNK);
    this.textBytes = Buffer.from(buffer, TEXT_AT, CHUNK * 2);
    this.found = new Int32Array(buffer, this.foundAt, foundInts);
    this.results = new Int32Array(buffer, this.resultsAt, 16);
    const rowBytes = classes * 4;
    this.shift = 31 - Math.clz32(rowBytes & -rowBytes);
    this.inverse = inverseModulo32(rowBytes >>> this.shift);
    const { exports } = new WebAssembly.Instance(walkModule(), { env: { memory } });
    this.walkers = [exports.walk1, exports[`walk${LANES}`]] as ((...args: number[]) => void)[];
    this.expandLane = exports.expand as (...args: number[]) => void;
  }

  /**
   * Writes lane `lane`'s `ints` ints of hits of the last walk into `found`
   * as keyword hits, `offset` added to their ends and `spaces` to their
   * counts; returns the ints written.
   */
  expand(lane: number, ints: number, offset: number, spaces: number): number {
    this.expandLane(this.hitsAt + lane * LANE_STRIDE, ints, offset, spaces, this.foundAt, this.shift, this.inverse, this.outStartAt, this.outputsAt, this.resultsAt);
    return this.results[0]!;
  }

  /**
   * Walks text[from, to) of the chunk from `row` (in bytes) with `spaces`
   * spaces before it: in lanes when it is long enough, which leaves a few
   * chars at the end (`stop`). The returned object is reused by the next walk.
   */
  walk(from: number, to: number, row: number, spaces: number): WalkEnd {
    const lanes = to - from >= LANES * Math.max(MIN_STRETCH, this.maxLength) ? LANES : 1;
    this.walkers[lanes === 1 ? 0 : 1]!(from, to, row, spaces, this.hitsAt, this.resultsAt, this.maxLength);
    const r = this.results;
    const e = this.ended;
    e.lanes = lanes;
    let before = 0;
    for (let i = 0; i < lanes; i++) {
      e.laneInts[i] = r[i]! >> 2;
      e.laneSpaces[i] = before;
      // Lane 0 counts from the spaces it was given; the others from their stretch's start.
      before = i === 0 ? r[lanes]! : before + r[lanes + i]!;
    }
    e.spaces = before;
    e.row = r[lanes * 2]!;
    e.stop = r[lanes * 2 + 1]!;
    return e;
  }
}

/** The inverse of an odd number modulo 2³² (Newton's iteration: each step doubles the bits that are right). */
function inverseModulo32(odd: number): number {
  let x = odd;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(odd, x));
  return x;
}
