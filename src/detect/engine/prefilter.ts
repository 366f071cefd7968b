// One pass over the text finds every keyword occurrence, so rule regexes only
// run where one of their keywords is. The automaton is an Aho-Corasick DFA
// with all transitions precomputed into one typed array: the scan loop is a
// table lookup per character, nothing else.
//
// Each lookup depends on the one before, so a single walk waits on memory at
// every character. Text is therefore walked by two lanes at once, one per
// half: the second lane starts a longest keyword early, which is enough for
// the automaton to reach the exact state the first lane would have at the
// half. Each lane notes the states its hits end in; after the walk they are
// expanded into one list of hits, the first lane's before the second's, so
// callers get every hit in order of its end (and the loop makes no call).
//
// A prefilter made with `countSpaces` also says, with every hit, how many
// spaces the text holds before its end: in normalized text, where one space
// separates words, that is a word count, so a caller can tell how many words
// apart two hits are without another pass. It walks the text's UTF-16 code
// units in two lanes whatever the script, in WebAssembly (counting-walk.ts).
// Without it (the credential scanner, whose text is raw traffic) Latin-1 text
// is walked as bytes with no count, and other text one char at a time.

import { CHUNK, CountingWalk, SPACE } from './counting-walk.js';

/** Characters outside the keywords' alphabet share class 0, which leads every state back to the root. */
const ASCII = 128;
/** One class per UTF-16 code unit: the hot loop maps a character with a single load, no range check. */
const CODE_UNITS = 65536;
/** Text with a code unit above 0xFF cannot be copied one byte per character. */
const BEYOND_LATIN1 = /[^\x00-\xff]/;
const MAX_SCRATCH = 1 << 20;
/** Below this length a second lane's warm-up and bookkeeping cost more than they save. */
const MIN_TWO_LANE_TEXT = 256;
// A scratch copy of the text as bytes; scans are synchronous, so one serves
// every prefilter. Zeroed after each scan: no prompt text lingers in it.
let bytes = Buffer.alloc(64 * 1024);

export class KeywordPrefilter {
  readonly size: number;
  /** The longest keyword's length: how far back a hit can start. */
  private readonly maxLength: number;
  private readonly classOf: Uint8Array;
  private readonly classes: number;
  /** The walk of prefilters that count spaces. */
  private readonly counting: CountingWalk | undefined;
  /**
   * next[row + cls] is the next state's row (state * classes), bit-inverted
   * (negative) when keywords end in that state, so the hot loop needs one
   * load and one sign test per character.
   */
  private readonly next: Int32Array;
  /** Keywords ending at a state: outputs[outStart[s] .. outStart[s + 1]). */
  private readonly outStart: Int32Array;
  private readonly outputs: Int32Array;
  /** Hits of the last scan, as (keyword, end, spaces), and how many ints of it they fill. */
  private hitList = new Int32Array(3 * 256);
  private found = 0;
  /** Each lane's hits during a two-lane walk, as (state row, end, spaces). */
  private laneA = new Int32Array(3 * 128);
  private laneB = new Int32Array(3 * 128);

  /**
   * ASCII letters match in either case. Other characters match only as they
   * are, so keywords with them are refused unless `nonAscii` says the text
   * is folded the way they are (as the exfiltration normalizer does).
   * `countSpaces`: each hit comes with the spaces before it.
   */
  constructor(keywords: readonly string[], opts: { readonly nonAscii?: boolean; readonly countSpaces?: boolean } = {}) {
    this.size = keywords.length;
    const countSpaces = opts.countSpaces === true;
    const lowered = keywords.map((k, i) => {
      if (k.length === 0) throw new Error(`prefilter keyword ${i} is empty`);
      for (let j = 0; j < k.length && opts.nonAscii !== true; j++) {
        if (k.charCodeAt(j) >= ASCII) throw new Error(`prefilter keyword ${JSON.stringify(k)} is not ASCII`);
      }
      return k.toLowerCase();
    });

    this.classOf = new Uint8Array(CODE_UNITS);
    let classes = 1;
    for (const k of lowered) {
      for (let j = 0; j < k.length; j++) {
        const c = k.charCodeAt(j);
        if (this.classOf[c] === 0) {
          if (classes === 255) throw new Error('prefilter alphabet too large');
          this.classOf[c] = classes++;
        }
      }
    }
    for (let c = 65; c <= 90; c++) this.classOf[c] = this.classOf[c + 32]!;
    // Spaces are counted even when no keyword holds one.
    if (countSpaces && this.classOf[SPACE] === 0) this.classOf[SPACE] = classes++;
    this.classes = classes;

    // Trie first, as a list of sparse child maps, built depth by depth: states
    // are numbered in breadth-first order, so the shallow states a scan spends
    // most of its time in share a few cache lines of the table.
    this.maxLength = lowered.reduce((m, k) => Math.max(m, k.length), 0);
    const children: Map<number, number>[] = [new Map()];
    const ends: number[][] = [[]];
    const at = new Int32Array(lowered.length);
    for (let depth = 0; depth < this.maxLength; depth++) {
      lowered.forEach((k, idx) => {
        if (depth >= k.length) return;
        const cls = this.classOf[k.charCodeAt(depth)]!;
        let t = children[at[idx]!]!.get(cls);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          ends.push([]);
          children[at[idx]!]!.set(cls, t);
        }
        at[idx] = t;
        if (depth === k.length - 1) ends[t]!.push(idx);
      });
    }

    // Breadth-first: fill failure links and the dense transition table.
    const states = children.length;
    const next = new Int32Array(states * classes);
    const fail = new Int32Array(states);
    const queue: number[] = [];
    for (let cls = 0; cls < classes; cls++) {
      const t = children[0]!.get(cls);
      if (t !== undefined) {
        next[cls] = t;
        queue.push(t);
      }
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      ends[s]!.push(...ends[fail[s]!]!);
      for (let cls = 0; cls < classes; cls++) {
        const t = children[s]!.get(cls);
        if (t !== undefined) {
          fail[t] = next[fail[s]! * classes + cls]!;
          next[s * classes + cls] = t;
          queue.push(t);
        } else {
          next[s * classes + cls] = next[fail[s]! * classes + cls]!;
        }
      }
    }
    this.outStart = new Int32Array(states + 1);
    let total = 0;
    for (let st = 0; st < states; st++) {
      this.outStart[st] = total;
      total += ends[st]!.length;
    }
    this.outStart[states] = total;
    this.outputs = new Int32Array(total);
    for (let st = 0, o = 0; st < states; st++) for (const idx of ends[st]!) this.outputs[o++] = idx;

    for (let i = 0; i < next.length; i++) {
      const target = next[i]!;
      next[i] = ends[target]!.length > 0 ? ~(target * classes) : target * classes;
    }
    if (countSpaces) {
      this.counting = new CountingWalk(this.classOf, next, classes, this.outStart, this.outputs, this.maxLength);
      // The walk holds its own copy of the table.
      this.next = new Int32Array(0);
    } else this.next = next;
  }

  /**
   * Finds every keyword occurrence in `text` and returns how many there are.
   * They are then in `hits`, in order of their end.
   */
  scan(text: string): number {
    this.found = 0;
    const counting = this.counting;
    if (counting === undefined) {
      // Typed-array reads beat charCodeAt by about a fifth, so Latin-1 text
      // is copied (natively) into a scratch array first.
      if (text.length <= MAX_SCRATCH && !BEYOND_LATIN1.test(text)) this.scanBytes(text);
      else this.scanChars(text);
      return this.found / 3;
    }
    let row = 0;
    let spaces = 0;
    for (let at = 0; at < text.length; at += CHUNK) {
      const n = Math.min(CHUNK, text.length - at);
      counting.textBytes.write(n === text.length ? text : text.slice(at, at + n), 0, n * 2, 'utf16le');
      ({ row, spaces } = this.walkChunk(counting, n, at, row, spaces));
    }
    return this.found / 3;
  }

  /**
   * The same for text given as its UTF-16 code units, codes[0, length)
   * (prefilters made with `countSpaces`).
   */
  scanCodes(codes: Uint16Array, length: number): number {
    const counting = this.counting;
    if (counting === undefined) throw new Error('scanCodes needs a prefilter made with countSpaces');
    this.found = 0;
    let row = 0;
    let spaces = 0;
    for (let at = 0; at < length; at += CHUNK) {
      const n = Math.min(CHUNK, length - at);
      counting.text.set(codes.subarray(at, at + n));
      ({ row, spaces } = this.walkChunk(counting, n, at, row, spaces));
    }
    return this.found / 3;
  }

  /**
   * Walks the chunk of `n` code units the walk holds, `offset` into the
   * text, from `row` (in bytes) with `spaces` before it, records its hits,
   * clears the chunk and returns where the walk ended.
   */
  private walkChunk(counting: CountingWalk, n: number, offset: number, row: number, spaces: number): { row: number; spaces: number } {
    let end = counting.walk(0, n, row, spaces);
    for (;;) {
      for (let i = 0; i < end.lanes; i++) this.take(counting, counting.expand(i, end.laneInts[i]!, offset, end.laneSpaces[i]!));
      if (end.stop === n) break;
      // A walk in lanes leaves the chars past its last whole step.
      end = counting.walk(end.stop, n, end.row, end.spaces);
    }
    counting.text.fill(0, 0, n);
    return { row: end.row, spaces: end.spaces };
  }

  /**
   * The last scan's hits, three ints each: the keyword's index in the
   * constructor list, the offset just after it, and (countSpaces) the spaces
   * before that offset. Valid until the next scan.
   */
  get hits(): Int32Array {
    return this.hitList;
  }

  /**
   * Latin-1 text as bytes, in two lanes as the counting walk does, but
   * with no space count: in the credential scanner's hot loop the count and
   * the wider copy cost a tenth of its time.
   */
  private scanBytes(text: string): void {
    if (bytes.length < text.length) bytes = Buffer.alloc(Math.min(MAX_SCRATCH, Math.max(text.length, bytes.length * 2)));
    const buf = bytes;
    const n = buf.write(text, 0, 'latin1');
    if (n < MIN_TWO_LANE_TEXT || 2 * this.maxLength > n) this.scanChars(text);
    else {
      const { classOf, next } = this;
      const half = n >> 1;
      let b = half - this.maxLength + 1;
      let rowB = 0;
      for (; b < half; b++) rowB = stateRow(next[rowB + classOf[buf[b]!]!]!);
      let laneA = this.laneA;
      let laneB = this.laneB;
      let ha = 0;
      let hb = 0;
      let rowA = 0;
      for (let a = 0; a < half; a++, b++) {
        const va = next[rowA + classOf[buf[a]!]!]!;
        const vb = next[rowB + classOf[buf[b]!]!]!;
        if ((va | vb) >= 0) {
          rowA = va;
          rowB = vb;
          continue;
        }
        rowA = stateRow(va);
        rowB = stateRow(vb);
        if (va < 0) {
          if (ha === laneA.length) laneA = this.laneA = grown(laneA);
          laneA[ha++] = rowA;
          laneA[ha++] = a + 1;
          laneA[ha++] = 0;
        }
        if (vb < 0) {
          if (hb === laneB.length) laneB = this.laneB = grown(laneB);
          laneB[hb++] = rowB;
          laneB[hb++] = b + 1;
          laneB[hb++] = 0;
        }
      }
      this.emitLane(laneA, ha, 0);
      this.emitLane(laneB, hb, 0);
      // An odd length leaves lane b one character short.
      if (b < n) this.scanChars(text, rowB, b);
    }
    buf.fill(0, 0, n);
  }

  /** One lane from `row` over text[from, end), one char at a time, no space count. */
  private scanChars(text: string, row = 0, from = 0): void {
    const { classOf, next } = this;
    for (let i = from, n = text.length; i < n; i++) {
      const v = next[row + classOf[text.charCodeAt(i)]!]!;
      if (v >= 0) {
        row = v;
        continue;
      }
      row = ~v;
      this.emit(row, i + 1, 0);
    }
  }

  /** Records the lane's (state row, end, spaces) hits in `ints` ints, `spaces` added to theirs. */
  private emitLane(lane: Int32Array, ints: number, spaces: number): void {
    let f = this.found;
    for (let h = 0; h < ints; h += 3) f = this.expand(lane[h]!, lane[h + 1]!, lane[h + 2]! + spaces, f);
    this.found = f;
  }

  /** Appends the first `ints` ints of the walk's expanded hits to the hit list. */
  private take(counting: CountingWalk, ints: number): void {
    if (this.found + ints > this.hitList.length) this.hitList = grown(this.hitList, this.found + ints);
    this.hitList.set(counting.found.subarray(0, ints), this.found);
    this.found += ints;
  }

  /** Records the keywords that end in the state at `row` as hits. */
  private emit(row: number, end: number, spaces: number): void {
    this.found = this.expand(row, end, spaces, this.found);
  }

  /** Writes the keywords that end in the state at `row` into the hit list from int `f` on; returns where they end. */
  private expand(row: number, end: number, spaces: number, f: number): number {
    const { outStart, outputs } = this;
    const st = row / this.classes;
    const from = outStart[st]!;
    const to = outStart[st + 1]!;
    let list = this.hitList;
    if (f + 3 * (to - from) > list.length) list = this.hitList = grown(list, f + 3 * (to - from));
    for (let o = from; o < to; o++) {
      list[f++] = outputs[o]!;
      list[f++] = end;
      list[f++] = spaces;
    }
    return f;
  }
}

/** A copy of `list` with room for at least `size` ints (twice its length by default). */
function grown(list: Int32Array<ArrayBuffer>, size = 0): Int32Array<ArrayBuffer> {
  const next = new Int32Array(Math.max(list.length * 2, size));
  next.set(list);
  return next;
}

/** A table entry's row, whether or not keywords end in its state. */
function stateRow(v: number): number {
  return v < 0 ? ~v : v;
}
