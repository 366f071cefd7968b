import { encodeModule, op, type Code } from '../engine/wasm-encode.js';

// The per-rule bookkeeping of keyword hits (see extraction.ts), in
// WebAssembly: for each hit of the prefilter, the rules whose second group
// holds the keyword are marked and the hit noted for the word-reach check,
// then, once the live rules are known, the hits of their first group become
// anchors or search windows. In JavaScript these loops spent most of their
// time on V8's checks of the dozen typed arrays they read and write; here
// the arrays live in the module's memory, and the matcher reads them through
// views.

/** Window starts kept per rule; past them the regex runs to the end of the text. */
export const MAX_WINDOWS = 4;
/** Hit positions kept per anchored rule; past them it falls back to a search. */
export const MAX_ANCHORS = 200;
/** Second-group hits kept per rule and view; past them every anchor of the rule is tried. */
export const MAX_ALSO = 128;
/** A match is looked for in a window from this far before a keyword hit… */
export const LOOKBEHIND = 240;
/** …to this far after it. */
export const LOOKAHEAD = 360;
/** Keyword hits handed over per call. */
const BATCH = 4096;
const PAGE = 65536;

/** Rule indexes per keyword, flat: keyword k's are rules[start[k] .. start[k + 1]). */
export interface RuleLists {
  readonly start: Int32Array;
  readonly rules: Int32Array;
}

export interface RuleIndex {
  readonly rules: number;
  /** Per keyword (the prefilter's list): its length and the spaces inside it. */
  readonly keywordLength: Int32Array;
  readonly keywordSpaces: Int32Array;
  /** Keyword → rules whose first group holds it, and whose second group does. */
  readonly keywordRules: RuleLists;
  readonly alsoRules: RuleLists;
  /** Per rule: 1 when anchored; the most spaces a match can hold (-1: no bound, or no second group). */
  readonly anchored: Uint8Array;
  readonly wordReach: Int32Array;
  /** Keywords at or past this index are rot13 spellings, and at or past the next, names of rot13. */
  readonly rot13From: number;
  readonly rot13Named: number;
}

/** Byte offsets of the memory's regions, in order, from the sizes (in i32s) given. */
function regions<T extends Record<string, number>>(sizes: T): { at: { [K in keyof T]: number }; end: number } {
  const at = {} as { [K in keyof T]: number };
  let end = 0;
  for (const key of Object.keys(sizes) as (keyof T)[]) {
    at[key] = end;
    end += sizes[key]! * 4;
  }
  return { at, end };
}

function layout(index: RuleIndex) {
  const rules = index.rules;
  const keywords = index.keywordLength.length;
  return regions({
    hits: BATCH * 3,
    first: rules,
    windowCount: rules,
    anchorCount: rules,
    alsoCount: rules,
    also: rules,
    live: rules,
    anchored: rules,
    wordReach: rules,
    windows: rules * MAX_WINDOWS,
    anchors: rules * MAX_ANCHORS,
    anchorWords: rules * MAX_ANCHORS,
    alsoHits: rules * MAX_ALSO * 3,
    keywordLength: keywords,
    keywordSpaces: keywords,
    ruleFrom: keywords + 1,
    ruleOf: index.keywordRules.rules.length,
    alsoFrom: keywords + 1,
    alsoOf: index.alsoRules.rules.length,
    /** Distinct rot13-spelled keywords seen (two make the rot13 view worth scanning), and the last one. */
    rot13: 2,
  });
}

type Layout = ReturnType<typeof layout>['at'];

/** The module for one rule index: the regions' places are immediates. */
function ruleHitsModule(index: RuleIndex, at: Layout): WebAssembly.Module {
  const get = op.get;
  const k = op.const;
  const read = (region: keyof Layout, i: Code): Code => op.load(op.shl(i, k(2)), at[region]);
  const write = (region: keyof Layout, i: Code, v: Code): Code => op.store(op.shl(i, k(2)), v, at[region]);

  // keywordAt(r, start, words): a hit of rule r's first group at `start`, `words` spaces into the view.
  const A = { r: 0, start: 1, words: 2, a: 3, c: 4, i: 5 };
  const keywordAt: Code = [
    ...op.if(op.eq(read('first', get(A.r)), k(-1)), write('first', get(A.r), get(A.start))),
    ...op.if(read('anchored', get(A.r)), [
      ...op.set(A.a, read('anchorCount', get(A.r))),
      ...op.if(op.ltS(get(A.a), k(MAX_ANCHORS)), [
        ...op.set(A.i, op.add(op.mul(get(A.r), k(MAX_ANCHORS)), get(A.a))),
        ...write('anchors', get(A.i), get(A.start)),
        ...write('anchorWords', get(A.i), get(A.words)),
      ]),
      ...op.if(op.leS(get(A.a), k(MAX_ANCHORS)), write('anchorCount', get(A.r), op.add(get(A.a), k(1)))),
      ...op.return(),
    ]),
    ...op.set(A.c, read('windowCount', get(A.r))),
    // A hit inside the last window needs no window of its own.
    ...op.if(
      op.and(op.and(op.gtS(get(A.c), k(0)), op.leS(get(A.c), k(MAX_WINDOWS))), op.ltS(op.sub(get(A.start), k(LOOKBEHIND)), op.add(read('windows', op.add(op.mul(get(A.r), k(MAX_WINDOWS)), op.sub(get(A.c), k(1)))), k(LOOKBEHIND + LOOKAHEAD - 200)))),
      op.return(),
    ),
    // The window starts LOOKBEHIND before the hit, or at 0: i & ~(i >> 31) is max(i, 0).
    ...op.if(op.ltS(get(A.c), k(MAX_WINDOWS)), [
      ...op.set(A.i, op.sub(get(A.start), k(LOOKBEHIND))),
      ...write('windows', op.add(op.mul(get(A.r), k(MAX_WINDOWS)), get(A.c)), op.and(get(A.i), op.xor(op.shrS(get(A.i), k(31)), k(-1)))),
    ]),
    ...op.if(op.leS(get(A.c), k(MAX_WINDOWS)), write('windowCount', get(A.r), op.add(get(A.c), k(1)))),
  ];

  type HitLocals = { count: number; h: number; end: number; kw: number; i: number; e: number; r: number };
  /** Runs `body` for each hit of the batch: `h` the byte offset of its three ints, `kw` its keyword. */
  const eachHit = (L: HitLocals, body: Code): Code => [
    ...op.set(L.end, op.mul(get(L.count), k(12))),
    ...op.block('done', op.loop('hit', op.brIf(op.geS(get(L.h), get(L.end)), 'done'), op.set(L.kw, op.load(get(L.h), at.hits)), body, op.inc(L.h, 12), op.br('hit'))),
  ];
  /** Runs `body` for each rule `r` that a keyword list (ruleFrom/ruleOf or alsoFrom/alsoOf) gives the hit's keyword. */
  const eachRule = (list: 'rule' | 'also', L: HitLocals, body: Code): Code => [
    ...op.set(L.i, read(`${list}From`, get(L.kw))),
    ...op.set(L.e, read(`${list}From`, op.add(get(L.kw), k(1)))),
    ...op.block('rules', op.loop('rule', op.brIf(op.geS(get(L.i), get(L.e)), 'rules'), op.set(L.r, read(`${list}Of`, get(L.i))), body, op.inc(L.i, 1), op.br('rule'))),
  ];

  // second(count): the hits' second-group rules are marked, and the hits noted for those with a word reach.
  const S = { count: 0, h: 1, end: 2, kw: 3, i: 4, e: 5, r: 6, c: 7, at: 8, hitEnd: 9 };
  const rot13Seen: Code = [
    ...op.if(
      op.geS(get(S.kw), k(index.rot13Named)),
      write('rot13', k(0), op.add(read('rot13', k(0)), k(2))),
      op.if(op.ne(get(S.kw), read('rot13', k(1))), write('rot13', k(0), op.add(read('rot13', k(0)), k(1)))),
    ),
    ...write('rot13', k(1), get(S.kw)),
  ];
  const second = eachHit(
    S,
    op.if(
      op.geS(get(S.kw), k(index.rot13From)),
      rot13Seen,
      eachRule('also', S, [
        ...write('also', get(S.r), k(1)),
        ...op.if(op.geS(read('wordReach', get(S.r)), k(0)), [
          ...op.set(S.c, read('alsoCount', get(S.r))),
          ...op.if(op.ltS(get(S.c), k(MAX_ALSO)), [
            ...op.set(S.at, op.mul(op.add(op.mul(get(S.r), k(MAX_ALSO)), get(S.c)), k(3))),
            ...op.set(S.hitEnd, op.load(get(S.h), at.hits + 4)),
            ...write('alsoHits', get(S.at), get(S.hitEnd)),
            ...write('alsoHits', op.add(get(S.at), k(1)), op.sub(get(S.hitEnd), read('keywordLength', get(S.kw)))),
            ...write('alsoHits', op.add(get(S.at), k(2)), op.sub(op.load(get(S.h), at.hits + 8), read('keywordSpaces', get(S.kw)))),
          ]),
          ...op.if(op.leS(get(S.c), k(MAX_ALSO)), write('alsoCount', get(S.r), op.add(get(S.c), k(1)))),
        ]),
      ]),
    ),
  );

  // anchors(count): the hits of the live rules' first groups.
  const N = { count: 0, h: 1, end: 2, kw: 3, i: 4, e: 5, r: 6, start: 7, words: 8 };
  const anchors = eachHit(
    N,
    op.if(op.ltS(get(N.kw), k(index.rot13From)), [
      ...op.set(N.start, op.sub(op.load(get(N.h), at.hits + 4), read('keywordLength', get(N.kw)))),
      ...op.set(N.words, op.sub(op.load(get(N.h), at.hits + 8), read('keywordSpaces', get(N.kw)))),
      ...eachRule('rule', N, op.if(read('live', get(N.r)), op.call(0, get(N.r), get(N.start), get(N.words)))),
    ]),
  );

  return new WebAssembly.Module(
    encodeModule([
      { name: 'keywordAt', params: 3, body: keywordAt },
      { name: 'second', params: 1, body: second },
      { name: 'anchors', params: 1, body: anchors },
    ]),
  );
}

/** The per-rule state of the view being matched, and the passes that fill it from keyword hits. */
export class RuleHits {
  /** First keyword hit per rule (-1: not a candidate). */
  readonly first: Int32Array;
  /** Up to MAX_WINDOWS window starts per rule, and how many (MAX_WINDOWS + 1: overflowed). */
  readonly windows: Int32Array;
  readonly windowCount: Int32Array;
  /** Keyword hit positions per anchored rule, their word positions, and how many (MAX_ANCHORS + 1: overflowed). */
  readonly anchors: Int32Array;
  readonly anchorWords: Int32Array;
  readonly anchorCount: Int32Array;
  /**
   * Per rule with a word reach, the view's hits of its second group in order
   * of end, MAX_ALSO a rule: end, start, word position; and how many
   * (MAX_ALSO + 1: overflowed, every anchor is tried).
   */
  readonly alsoHits: Int32Array;
  readonly alsoCount: Int32Array;
  /** 1 for the rules with a hit of their second group. */
  readonly also: Int32Array;
  /** 1 for the rules whose first-group hits the next anchors pass takes. */
  readonly live: Int32Array;
  private readonly hits: Int32Array;
  private readonly rot13: Int32Array;
  private readonly second: (count: number) => void;
  private readonly anchorPass: (count: number) => void;
  readonly keywordAt: (r: number, start: number, words: number) => void;

  constructor(index: RuleIndex) {
    const { at, end } = layout(index);
    const memory = new WebAssembly.Memory({ initial: Math.ceil(end / PAGE) });
    const view = (region: keyof Layout, length: number) => new Int32Array(memory.buffer, at[region], length);
    const rules = index.rules;
    this.hits = view('hits', BATCH * 3);
    this.first = view('first', rules);
    this.windowCount = view('windowCount', rules);
    this.anchorCount = view('anchorCount', rules);
    this.alsoCount = view('alsoCount', rules);
    this.also = view('also', rules);
    this.live = view('live', rules);
    this.windows = view('windows', rules * MAX_WINDOWS);
    this.anchors = view('anchors', rules * MAX_ANCHORS);
    this.anchorWords = view('anchorWords', rules * MAX_ANCHORS);
    this.alsoHits = view('alsoHits', rules * MAX_ALSO * 3);
    this.rot13 = view('rot13', 2);
    view('anchored', rules).set(index.anchored);
    view('wordReach', rules).set(index.wordReach);
    view('keywordLength', index.keywordLength.length).set(index.keywordLength);
    view('keywordSpaces', index.keywordSpaces.length).set(index.keywordSpaces);
    view('ruleFrom', index.keywordRules.start.length).set(index.keywordRules.start);
    view('ruleOf', index.keywordRules.rules.length).set(index.keywordRules.rules);
    view('alsoFrom', index.alsoRules.start.length).set(index.alsoRules.start);
    view('alsoOf', index.alsoRules.rules.length).set(index.alsoRules.rules);
    const { exports } = new WebAssembly.Instance(ruleHitsModule(index, at), { env: { memory } });
    this.second = exports.second as (count: number) => void;
    this.anchorPass = exports.anchors as (count: number) => void;
    this.keywordAt = exports.keywordAt as (r: number, start: number, words: number) => void;
  }

  /** Clears the state for a new view. */
  reset(): void {
    this.first.fill(-1);
    this.also.fill(0);
    this.windowCount.fill(0);
    this.anchorCount.fill(0);
    this.alsoCount.fill(0);
    this.rot13[0] = 0;
    this.rot13[1] = -1;
  }

  /** Distinct rot13-spelled keywords seen by takeSecondGroups (a name of rot13 counts two). */
  get rot13Hits(): number {
    return this.rot13[0]!;
  }

  /** First pass over the prefilter's hits (keyword, end, spaces: three ints each): rot13 spellings, and the hits of second groups. */
  takeSecondGroups(keywordHits: Int32Array, count: number): void {
    this.inBatches(keywordHits, count, this.second);
  }

  /** A pass over the prefilter's hits: first-group hits of the rules marked `live`. */
  takeAnchors(keywordHits: Int32Array, count: number): void {
    this.inBatches(keywordHits, count, this.anchorPass);
  }

  private inBatches(keywordHits: Int32Array, count: number, pass: (count: number) => void): void {
    for (let from = 0; from < count; from += BATCH) {
      const n = Math.min(BATCH, count - from);
      this.hits.set(keywordHits.subarray(from * 3, (from + n) * 3));
      pass(n);
    }
  }
}
