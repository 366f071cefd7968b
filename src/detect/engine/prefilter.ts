// One pass over the text finds every keyword occurrence, so rule regexes only
// run where one of their keywords is. The automaton is an Aho-Corasick DFA
// with all transitions precomputed into one typed array: the scan loop is a
// table lookup per character, nothing else.
//
// Each lookup depends on the one before, so a single walk waits on memory at
// every character. Text that fits in bytes is therefore walked by two lanes at
// once, one per half: the second lane starts a longest keyword early, which is
// enough for the automaton to reach the exact state the first lane would have
// at the half. Its hits are held back and reported after the first lane's, so
// callers still see every hit in order of its end.

/** Characters outside the keywords' alphabet share class 0, which leads every state back to the root. */
const ASCII = 128;
/** One class per UTF-16 code unit: the hot loop maps a character with a single load, no range check. */
const CODE_UNITS = 65536;
/** Text with a code unit above 0xFF cannot be copied one byte per character. */
const BEYOND_LATIN1 = /[^\x00-\xff]/;
const MAX_SCRATCH = 1 << 20;
/** Below this length a second lane's warm-up and bookkeeping cost more than they save. */
const MIN_TWO_LANE_TEXT = 256;
/** Scratch for scanBytes; scans are synchronous, so one buffer serves every prefilter. */
let scratch = Buffer.allocUnsafe(64 * 1024);

export class KeywordPrefilter {
  readonly size: number;
  /** The longest keyword's length: how far back a hit can start. */
  private readonly maxLength: number;
  private readonly classOf: Uint8Array;
  private readonly classes: number;
  /**
   * next[row + cls] is the next state's row (state * classes), bit-inverted
   * (negative) when keywords end in that state, so the hot loop needs one
   * load and one sign test per character.
   */
  private readonly next: Int32Array;
  /** Keywords ending at a state: outputs[outStart[s] .. outStart[s + 1]). */
  private readonly outStart: Int32Array;
  private readonly outputs: Int32Array;
  /** The second lane's hits as [keyword, end, keyword, end, ...], held back until the first lane is done. */
  private laneHits = new Int32Array(64);

  /**
   * ASCII letters match in either case. Other characters match only as they
   * are, so keywords with them are refused unless `nonAscii` says the text
   * is folded the way they are (as the exfiltration normalizer does).
   */
  constructor(keywords: readonly string[], opts: { readonly nonAscii?: boolean } = {}) {
    this.size = keywords.length;
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
    this.next = next;
  }

  /** Calls onHit for every occurrence: keyword index into the constructor list, and the offset just after the match. */
  scan(text: string, onHit: (keyword: number, end: number) => void): void {
    // Typed-array reads beat charCodeAt by about a fifth, so text that fits in
    // one byte per character is copied (natively) into a scratch buffer first.
    if (text.length <= MAX_SCRATCH && !BEYOND_LATIN1.test(text)) this.scanBytes(text, onHit);
    else this.scanChars(text, onHit);
  }

  private scanBytes(text: string, onHit: (keyword: number, end: number) => void): void {
    if (scratch.length < text.length) scratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH, Math.max(text.length, scratch.length * 2)));
    const bytes = scratch;
    const n = bytes.write(text, 0, 'latin1');
    // Lane b's warm-up must fit in the first half (a user rule may bring a long keyword).
    if (n < MIN_TWO_LANE_TEXT || 2 * this.maxLength > n) {
      this.walkBytes(bytes, 0, 0, n, onHit);
      return;
    }
    const { classOf, next } = this;
    const half = n >> 1;
    // Lane b starts early enough to be in the exact state by the time it reaches the half.
    let b = half - this.maxLength + 1;
    let rowB = 0;
    for (; b < half; b++) rowB = stateRow(next[rowB + classOf[bytes[b]!]!]!);
    let held = 0;
    let rowA = 0;
    for (let a = 0; a < half; a++, b++) {
      const va = next[rowA + classOf[bytes[a]!]!]!;
      const vb = next[rowB + classOf[bytes[b]!]!]!;
      if ((va | vb) >= 0) {
        rowA = va;
        rowB = vb;
        continue;
      }
      rowA = stateRow(va);
      rowB = stateRow(vb);
      if (va < 0) this.report(rowA, a + 1, onHit);
      if (vb < 0) held = this.hold(rowB, b + 1, held);
    }
    const laneHits = this.laneHits;
    for (let h = 0; h < held; h += 2) onHit(laneHits[h]!, laneHits[h + 1]!);
    // An odd length leaves lane b one character short.
    this.walkBytes(bytes, rowB, b, n, onHit);
  }

  /** One lane from `row` over bytes[from, to). */
  private walkBytes(bytes: Uint8Array, row: number, from: number, to: number, onHit: (keyword: number, end: number) => void): void {
    const { classOf, next } = this;
    for (let i = from; i < to; i++) {
      const v = next[row + classOf[bytes[i]!]!]!;
      if (v >= 0) {
        row = v;
        continue;
      }
      row = ~v;
      this.report(row, i + 1, onHit);
    }
  }

  /** Reports the keywords that end in the state at `row`. */
  private report(row: number, end: number, onHit: (keyword: number, end: number) => void): void {
    const { outStart, outputs } = this;
    const st = row / this.classes;
    for (let o = outStart[st]!, b = outStart[st + 1]!; o < b; o++) onHit(outputs[o]!, end);
  }

  /** Appends the keywords that end in the state at `row` to laneHits[0, held); returns the new count. */
  private hold(row: number, end: number, held: number): number {
    const { outStart, outputs } = this;
    const st = row / this.classes;
    const from = outStart[st]!;
    const to = outStart[st + 1]!;
    if (this.laneHits.length < held + 2 * (to - from)) {
      const grown = new Int32Array(Math.max(this.laneHits.length * 2, held + 2 * (to - from)));
      grown.set(this.laneHits.subarray(0, held));
      this.laneHits = grown;
    }
    const laneHits = this.laneHits;
    for (let o = from; o < to; o++) {
      laneHits[held++] = outputs[o]!;
      laneHits[held++] = end;
    }
    return held;
  }

  private scanChars(text: string, onHit: (keyword: number, end: number) => void): void {
    const { classOf, next } = this;
    let row = 0;
    for (let i = 0, n = text.length; i < n; i++) {
      const v = next[row + classOf[text.charCodeAt(i)]!]!;
      if (v >= 0) {
        row = v;
        continue;
      }
      row = ~v;
      this.report(row, i + 1, onHit);
    }
  }
}

/** A table entry's row, whether or not keywords end in its state. */
function stateRow(v: number): number {
  return v < 0 ? ~v : v;
}
