import { encodeModule, op, type Code } from '../engine/wasm-encode.js';

// The prompt model's features, in WebAssembly: one pass over normalized text
// (lower case, so a word is a run of a-z and 0-9) that hashes each word
// (FNV-1a) and each pair of adjacent words to a slot (Fibonacci hashing) of
// a table of 2^bits int8 weights, keeps each slot once, and sums the weights
// of the slots it keeps. The trainer reads the slots; the detector only the
// sum and the count. The same pass in JavaScript took about twice as long.
//
// Memory: the weights (2^bits bytes), the seen marks (2^bits bytes, all zero
// between calls), the result (sum, count), the slot list, then the text's
// code units. The text and its slots are zeroed after each call: nothing of
// a prompt stays here.

const PAGE = 65536;
/**
 * Only the first this many units of a text are read: what a prompt sets out
 * to do is at its head, and the cost per part stays bounded whatever its
 * length (the phrase rules read all of it).
 */
export const MAX_UNITS = 1536;
const OFFSET_BASIS = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

// features(n, codes, weights, seen, slots, shift, out); codes[n] must be a
// space (a sentinel that ends the last word).
const L = { n: 0, codes: 1, weights: 2, seen: 3, slots: 4, shift: 5, out: 6, p: 7, end: 8, c: 9, h: 10, prev: 11, hasPrev: 12, count: 13, sum: 14, slot: 15, i: 16 };
const PARAMS = 7;
const get = op.get;
const k = op.const;
/** Fibonacci hashing: the top bits of a hash times 2^32/phi pick the slot. */
const GOLDEN = 0x9e3779b1 | 0;

/** Keeps the slot of hash `h` once: marks it seen, lists it, adds its weight (int8, sign-extended). */
const take = (h: Code): Code => [
  ...op.set(L.slot, op.shrU(op.mul(h, k(GOLDEN)), get(L.shift))),
  ...op.if(op.eqz(op.load8(op.add(get(L.seen), get(L.slot)))), [
    ...op.store8(op.add(get(L.seen), get(L.slot)), k(1)),
    ...op.store(op.add(get(L.slots), op.shl(get(L.count), k(2))), get(L.slot)),
    ...op.inc(L.count),
    ...op.set(L.sum, op.add(get(L.sum), op.shrS(op.shl(op.load8(op.add(get(L.weights), get(L.slot))), k(24)), k(24)))),
  ]),
];

const isWordChar = (c: Code): Code => op.or(op.ltU(op.sub(c, k(0x61)), k(26)), op.ltU(op.sub(c, k(0x30)), k(10)));

const featuresBody: Code = [
  ...op.set(L.p, get(L.codes)),
  ...op.set(L.end, op.add(get(L.codes), op.shl(get(L.n), k(1)))),
  ...op.block(
    'done',
    op.loop(
      'next',
      // Separators up to the next word (or the end).
      op.block('found', op.loop('skip', op.brIf(op.geU(get(L.p), get(L.end)), 'done'), op.set(L.c, op.load16(get(L.p))), op.brIf(isWordChar(get(L.c)), 'found'), op.inc(L.p, 2), op.br('skip'))),
      // The word's chars; the sentinel after the text stops the last one.
      op.set(L.h, k(OFFSET_BASIS)),
      op.loop('chars', op.set(L.h, op.mul(op.xor(get(L.h), get(L.c)), k(FNV_PRIME))), op.inc(L.p, 2), op.set(L.c, op.load16(get(L.p))), op.brIf(isWordChar(get(L.c)), 'chars')),
      take(get(L.h)),
      op.if(get(L.hasPrev), take(op.xor(op.mul(get(L.prev), k(FNV_PRIME)), get(L.h)))),
      op.set(L.prev, get(L.h)),
      op.set(L.hasPrev, k(1)),
      op.br('next'),
    ),
  ),
  // The seen marks go, for the next text.
  ...op.block(
    'cleared',
    op.loop('clear', op.brIf(op.geS(get(L.i), get(L.count)), 'cleared'), op.store8(op.add(get(L.seen), op.load(op.add(get(L.slots), op.shl(get(L.i), k(2))))), k(0)), op.inc(L.i), op.br('clear')),
  ),
  ...op.store(get(L.out), get(L.sum)),
  ...op.store(get(L.out), get(L.count), 4),
];

let compiled: WebAssembly.Module | undefined;

/** Feature extraction over a weight table of 2^bits slots, in a memory of its own. */
export class PromptFeatures {
  private readonly memory: WebAssembly.Memory;
  private readonly run: (...args: number[]) => void;
  private u16: Uint16Array;
  private i32: Int32Array;
  private readonly weightsAt = 0;
  private readonly seenAt: number;
  private readonly outAt: number;
  private readonly slotsAt: number;

  /** `weights`: 2^bits int8 weights (zeros when only the slots are wanted). */
  constructor(readonly bits: number, weights: Int8Array = new Int8Array(1 << bits)) {
    const size = 1 << bits;
    this.seenAt = size;
    this.outAt = 2 * size;
    this.slotsAt = 2 * size + 16;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((this.slotsAt + 8) / PAGE) });
    new Int8Array(this.memory.buffer, this.weightsAt, size).set(weights);
    compiled ??= new WebAssembly.Module(encodeModule([{ name: 'features', params: PARAMS, body: featuresBody }]));
    this.run = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports.features as (...args: number[]) => void;
    this.u16 = new Uint16Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  /** Slots after the slot list: the codes (at most one slot per char and one per pair, so length + 2 slots). */
  private codesAt(length: number): number {
    return this.slotsAt + (length + 2) * 4;
  }

  /**
   * Runs the pass over units[0..min(length, MAX_UNITS)); returns the weight
   * sum and the count of distinct slots. `keepSlots`: leave the slot list for
   * slots() to take.
   */
  scan(units: Uint16Array, length: number, keepSlots = false): { sum: number; count: number } {
    length = Math.min(length, MAX_UNITS);
    const codesAt = this.codesAt(length);
    const end = codesAt + (length + 1) * 2;
    if (end > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
      this.u16 = new Uint16Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
    this.u16.set(length === units.length ? units : units.subarray(0, length), codesAt >> 1);
    this.u16[(codesAt >> 1) + length] = 0x20;
    this.run(length, codesAt, this.weightsAt, this.seenAt, this.slotsAt, 32 - this.bits, this.outAt);
    const sum = this.i32[this.outAt >> 2]!;
    const count = this.i32[(this.outAt >> 2) + 1]!;
    this.u16.fill(0, codesAt >> 1, (codesAt >> 1) + length + 1);
    if (!keepSlots) this.i32.fill(0, this.slotsAt >> 2, (this.slotsAt >> 2) + count);
    return { sum, count };
  }

  /** The distinct slots a scan with keepSlots kept, in the order met; the list is then zeroed. */
  slots(count: number): Int32Array {
    const slots = this.i32.slice(this.slotsAt >> 2, (this.slotsAt >> 2) + count);
    this.i32.fill(0, this.slotsAt >> 2, (this.slotsAt >> 2) + count);
    return slots;
  }
}
