// One pass over the text finds every keyword occurrence, so rule regexes only
// run where one of their keywords is. The automaton is an Aho-Corasick DFA
// with all transitions precomputed into one typed array: the scan loop is a
// table lookup per character, nothing else.

/** Characters outside the keywords' alphabet share class 0, which leads every state back to the root. */
const ASCII = 128;
/** One class per UTF-16 code unit: the hot loop maps a character with a single load, no range check. */
const CODE_UNITS = 65536;
/** Text with a code unit above 0xFF cannot be copied one byte per character. */
const BEYOND_LATIN1 = /[^\x00-\xff]/;
const MAX_SCRATCH = 1 << 20;
/** Scratch for scanBytes; scans are synchronous, so one buffer serves every prefilter. */
let scratch = Buffer.allocUnsafe(64 * 1024);

export class KeywordPrefilter {
  readonly size: number;
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

  constructor(keywords: readonly string[]) {
    this.size = keywords.length;
    const lowered = keywords.map((k, i) => {
      if (k.length === 0) throw new Error(`prefilter keyword ${i} is empty`);
      for (let j = 0; j < k.length; j++) {
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

    // Trie first, as a list of sparse child maps.
    const children: Map<number, number>[] = [new Map()];
    const ends: number[][] = [[]];
    lowered.forEach((k, idx) => {
      let s = 0;
      for (let j = 0; j < k.length; j++) {
        const cls = this.classOf[k.charCodeAt(j)]!;
        let t = children[s]!.get(cls);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          ends.push([]);
          children[s]!.set(cls, t);
        }
        s = t;
      }
      ends[s]!.push(idx);
    });

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
    const { classOf, classes, next, outStart, outputs } = this;
    if (scratch.length < text.length) scratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH, Math.max(text.length, scratch.length * 2)));
    const bytes = scratch;
    const n = bytes.write(text, 0, 'latin1');
    let row = 0;
    for (let i = 0; i < n; i++) {
      const v = next[row + classOf[bytes[i]!]!]!;
      if (v >= 0) {
        row = v;
        continue;
      }
      row = ~v;
      const st = row / classes;
      for (let o = outStart[st]!, b = outStart[st + 1]!; o < b; o++) onHit(outputs[o]!, i + 1);
    }
  }

  private scanChars(text: string, onHit: (keyword: number, end: number) => void): void {
    const { classOf, classes, next, outStart, outputs } = this;
    let row = 0;
    for (let i = 0, n = text.length; i < n; i++) {
      const v = next[row + classOf[text.charCodeAt(i)]!]!;
      if (v >= 0) {
        row = v;
        continue;
      }
      row = ~v;
      const st = row / classes;
      for (let o = outStart[st]!, b = outStart[st + 1]!; o < b; o++) onHit(outputs[o]!, i + 1);
    }
  }
}
