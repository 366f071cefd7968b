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
// there), then each lane's hits (state row, end, spaces: three i32s) and the
// results.

/** Code units walked per call; longer text is walked chunk after chunk. */
export const CHUNK = 16384;
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
        ...op.set(l.l, op.add(get(l.l), k(12))),
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
          op.set(warm, op.add(get(warm), k(2))),
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
        lane.flatMap((l) => op.set(l.at, op.add(get(l.at), k(step * 2)))),
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

const LOCALS_PER_LANE = 6;

let compiled: WebAssembly.Module | undefined;

function walkModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(
    encodeModule([1, LANES].map((lanes) => ({ name: `walk${lanes}`, params: 7, locals: 4 + lanes * LOCALS_PER_LANE, body: walkIn(lanes) }))),
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
  /** Each lane's hits: (row in bytes, end in the chunk, spaces), three ints each. */
  readonly lanes: readonly Int32Array[];
  private readonly results: Int32Array;
  private readonly walkers: readonly ((...args: number[]) => void)[];
  private readonly hitsAt: number;
  private readonly resultsAt: number;
  private readonly ended: WalkEnd = { lanes: 1, laneInts: new Int32Array(LANES), laneSpaces: new Int32Array(LANES), row: 0, spaces: 0, stop: 0 };

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
    this.hitsAt = TABLE_AT + next.length * 4;
    this.resultsAt = this.hitsAt + LANES * LANE_STRIDE;
    const memory = new WebAssembly.Memory({ initial: Math.ceil((this.resultsAt + 64) / PAGE) });
    const { buffer } = memory;
    const classes = new Uint16Array(buffer, 0, 0x10000);
    for (let u = 0; u < 0x10000; u++) classes[u] = ((classSpaced[u]! & 0xff) << 2) | (classSpaced[u]! >> 8 === 1 ? SPACE_BIT : 0);
    const table = new Int32Array(buffer, TABLE_AT, next.length);
    for (let i = 0; i < next.length; i++) table[i] = next[i]! >= 0 ? next[i]! * 4 : ~(~next[i]! * 4);
    this.text = new Uint16Array(buffer, TEXT_AT, CHUNK);
    this.textBytes = Buffer.from(buffer, TEXT_AT, CHUNK * 2);
    this.lanes = Array.from({ length: LANES }, (_, i) => new Int32Array(buffer, this.hitsAt + i * LANE_STRIDE, CHUNK * 3));
    this.results = new Int32Array(buffer, this.resultsAt, 16);
    const { exports } = new WebAssembly.Instance(walkModule(), { env: { memory } });
    this.walkers = [exports.walk1, exports[`walk${LANES}`]] as ((...args: number[]) => void)[];
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
