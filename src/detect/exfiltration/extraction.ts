import { KeywordPrefilter } from '../engine/prefilter.js';
import { findEncodedPayloads, type Encoding } from './decode.js';
import { leetView, normalize, rot13, type NormalizedText, type OffsetMap } from './normalize.js';
import { LOOKAHEAD, LOOKBEHIND, MAX_ALSO, MAX_ANCHORS, MAX_WINDOWS, RuleHits, type RuleLists } from './rule-hits.js';
import type { ExtractionRule } from './rules.js';
import { patternVocabulary, Segmenter } from './segment.js';
import { maxSpaces } from './span.js';

// Matches extraction / injection rules against one prompt text: one
// prefilter pass over the normalized text picks the candidate rules (a
// keyword of the rule, and one of its second group when it has one; rules
// with keywords in other scripts get a second, small prefilter that runs only
// on text in those scripts), then only their regexes run: anchored rules at
// the keyword hits (sticky), others in windows around them. An anchored rule
// with a second group runs only at hits followed, within the number of words
// its patterns can span, by a word of that group (the prefilter counts the
// spaces before each hit, so this needs no pass of its own; rule-hits.ts
// sorts the hits out per rule). The same is repeated on the leetspeak view,
// the rot13 view (when two rot13-spelled keywords show up, or the prompt
// says rot13) and on decoded payloads, up to a depth and a byte budget.

export type Via = 'text' | 'leet' | 'rot13' | Encoding;

export interface RuleHit {
  readonly rule: ExtractionRule;
  /** Offsets in the scanned (original) text; for a decoded payload, the encoded run. */
  readonly start: number;
  readonly end: number;
  readonly via: Via;
  /** The matched phrase in normalized form (lower case, no invisible chars). */
  readonly phrase: string;
}

export interface MatchOptions {
  readonly maxDepth: number;
  readonly maxBytes: number;
  /**
   * Score a view must be able to reach for its rules to run: candidates whose
   * positive weights cannot add up to it are skipped, and negative rules run
   * only once the positive ones reach it. 0 runs every candidate (rules test).
   */
  readonly minScore?: number;
}

/** Words by which a prompt says it is rot13 itself. */
const ROT13_NAMES = ['rot13', 'rot 13', 'caesar'];

/** Longest run of joined letters that is split back into words. */
const MAX_SEGMENT = 512;
/** Rules that can span more words than this gain nothing from the word check. */
const MAX_WORD_REACH = 64;

type Span = { readonly start: number; readonly end: number; readonly via: Via };

export class ExtractionMatcher {
  readonly rules: readonly ExtractionRule[];
  private readonly prefilter: KeywordPrefilter;
  private readonly maxKeywordSpaces: number;
  private readonly maxKeywordLength: number;
  /** The script-gated rules' keywords (not ASCII, so not in the main prefilter)… */
  private readonly scriptPrefilter: KeywordPrefilter | undefined;
  /** …their rule indexes and lengths… */
  private readonly scriptKeywordRules: readonly (readonly number[])[];
  private readonly scriptKeywordLength: Int32Array;
  private readonly scriptKeywordSpaces: Int32Array;
  /** …and the SCRIPT_* bits of those rules together. */
  private readonly scriptKeywordScripts: number;
  /** Script-gated rules that have ASCII keywords too: searched in the whole text when their script is seen. */
  private readonly mixedScriptRules: readonly number[];
  /** SCRIPT_* bits of the view being matched. */
  private viewScripts = 0;
  private readonly needsAlso: Uint8Array;
  /** 1 for the rules of positive weight. */
  private readonly positive: Uint8Array;
  /** Each rule's weight where positive, else 0. */
  private readonly positiveWeight: Float64Array;
  /** Scratch: the rules that can match the view being matched, in rule order. */
  private readonly candidates: Int32Array;
  /**
   * Per anchored rule with a second group: the most spaces a match of it can
   * hold (-1: no bound, every anchor is tried).
   */
  private readonly wordReach: Int32Array;
  private readonly segmenter: Segmenter;
  private readonly minScore: number;
  /** The score the rules must reach in the match under way: minScore less the part's credit. */
  private threshold = 0;
  private credit: ((units: Uint16Array, length: number) => number) | undefined;
  /** Per-view state of the rules, reset by every matchView (matching is synchronous). */
  private readonly state: RuleHits;

  /**
   * Marks `live` the rules whose keyword hits the next pass takes: those with
   * no second group or a hit of it, and of positive weight (`sign` 1), the
   * others (0) or either (-1).
   */
  private markLive(sign: number): void {
    const { live, also } = this.state;
    const { needsAlso, positive } = this;
    for (let r = 0; r < live.length; r++) live[r] = (needsAlso[r] === 0 || also[r] === 1) && (sign < 0 || positive[r] === sign) ? 1 : 0;
  }

  /**
   * Lists in `candidates` the rules with a first-group hit and, when they
   * need one, a second-group hit; returns how many. A rule whose needed
   * second group has no hit is set to no hit at all.
   */
  private takeCandidates(): number {
    const { first, also } = this.state;
    const { needsAlso, candidates } = this;
    let n = 0;
    for (let r = 0; r < first.length; r++) {
      if (first[r] === -1) continue;
      if (needsAlso[r] === 1 && also[r] === 0) first[r] = -1;
      else candidates[n++] = r;
    }
    return n;
  }

  /** Takes one keyword hit of the script prefilter. */
  private onScriptHit(k: number, end: number, spaces: number): void {
    const rules = this.scriptKeywordRules[k]!;
    const start = end - this.scriptKeywordLength[k]!;
    const words = spaces - this.scriptKeywordSpaces[k]!;
    for (const r of rules) if ((this.rules[r]!.scripts & this.viewScripts) !== 0) this.state.keywordAt(r, start, words);
  }

  constructor(rules: readonly ExtractionRule[], private readonly opts: MatchOptions) {
    this.rules = rules;
    this.minScore = opts.minScore ?? 0;
    const index = new Map<string, { rules: number[]; also: number[] }>();
    const entry = (k: string) => {
      let e = index.get(k);
      if (!e) index.set(k, (e = { rules: [], also: [] }));
      return e;
    };
    const scriptKeywords = new Map<string, number[]>();
    const mixedScriptRules: number[] = [];
    let scriptKeywordScripts = 0;
    rules.forEach((rule, r) => {
      if (rule.scripts !== 0 && rule.keywords.some(isAscii)) mixedScriptRules.push(r);
      else if (rule.scripts !== 0) {
        scriptKeywordScripts |= rule.scripts;
        for (const k of rule.keywords) scriptKeywords.set(k, [...(scriptKeywords.get(k) ?? []), r]);
      }
      for (const k of rule.keywords) if (isAscii(k) && !entry(k).rules.includes(r)) entry(k).rules.push(r);
      for (const k of rule.alsoKeywords) if (!entry(k).also.includes(r)) entry(k).also.push(r);
    });
    const keywords = [...index.keys()];
    const rotated = [...new Set(keywords.filter((k) => k.length >= 4 && index.get(k)!.rules.length > 0 && /[a-z]/.test(k)).map(rot13))].filter((k) => !index.has(k));
    const all = [...keywords, ...rotated, ...ROT13_NAMES];
    const keywordLength = Int32Array.from(all, (k) => k.length);
    const keywordSpaces = Int32Array.from(all, spacesIn);
    this.maxKeywordSpaces = Math.max(0, ...keywordSpaces);
    this.prefilter = new KeywordPrefilter(all, { countSpaces: true });
    this.scriptPrefilter = scriptKeywords.size > 0 ? new KeywordPrefilter([...scriptKeywords.keys()], { nonAscii: true, countSpaces: true }) : undefined;
    this.scriptKeywordRules = [...scriptKeywords.values()];
    this.scriptKeywordLength = Int32Array.from(scriptKeywords.keys(), (k) => k.length);
    this.scriptKeywordSpaces = Int32Array.from(scriptKeywords.keys(), spacesIn);
    // Anchors come from both prefilters: how far back a hit can start is the longest of either.
    this.maxKeywordLength = Math.max(0, ...keywordLength, ...this.scriptKeywordLength);
    this.scriptKeywordScripts = scriptKeywordScripts;
    this.mixedScriptRules = mixedScriptRules;
    this.needsAlso = Uint8Array.from(rules, (r) => (r.alsoKeywords.length > 0 ? 1 : 0));
    this.positive = Uint8Array.from(rules, (r) => (r.weight > 0 ? 1 : 0));
    this.positiveWeight = Float64Array.from(rules, (r) => Math.max(0, r.weight));
    this.candidates = new Int32Array(rules.length);
    this.segmenter = new Segmenter(patternVocabulary(rules.flatMap((r) => [r.regex.source, ...r.keywords, ...r.alsoKeywords])));
    this.wordReach = Int32Array.from(rules, (r) => {
      const reach = r.sticky && r.alsoKeywords.length > 0 ? maxSpaces(r.sticky.source) : Infinity;
      return reach <= MAX_WORD_REACH ? reach : -1;
    });
    this.state = new RuleHits({
      rules: rules.length,
      keywordLength,
      keywordSpaces,
      keywordRules: ruleLists(keywords.map((k) => index.get(k)!.rules)),
      alsoRules: ruleLists(keywords.map((k) => index.get(k)!.also)),
      anchored: Uint8Array.from(rules, (r) => (r.sticky ? 1 : 0)),
      wordReach: this.wordReach,
      rot13From: keywords.length,
      // A prompt that names rot13 counts as two rot13 keywords: the view is scanned.
      rot13Named: keywords.length + rotated.length,
    });
  }

  /**
   * Every rule that matches `text`, at most one hit per rule. `credit`, when
   * given, is called once with the normalized text and returns score the part
   * has from elsewhere (the prompt model): the rules then need only the rest
   * of the minimum score to be worth running.
   */
  match(text: string, credit?: (units: Uint16Array, length: number) => number): RuleHit[] {
    const hits: RuleHit[] = [];
    this.threshold = this.minScore;
    this.credit = credit;
    this.matchAt(text, 0, undefined, hits, { budget: this.opts.maxBytes });
    this.credit = undefined;
    return hits;
  }

  private matchAt(text: string, depth: number, span: Span | undefined, hits: RuleHit[], budget: { budget: number }): void {
    // The main prefilter reads the normalized text where normalization leaves it: no copy.
    let found = 0;
    const norm = normalize(text, (units, length) => {
      found = this.prefilter.scanCodes(units, length);
      if (depth === 0 && this.credit) this.threshold = Math.max(0, this.minScore - this.credit(units, length));
    });
    const rot13Seen = this.matchView(norm.text, norm, norm.scripts, span?.via ?? 'text', span, hits, found);
    const leet = norm.leetish ? leetView(norm.text) : undefined;
    if (leet !== undefined) this.matchView(leet, norm, norm.scripts, span?.via ?? 'leet', span, hits);
    if (rot13Seen) this.matchView(rot13(norm.text), norm, 0, span?.via ?? 'rot13', span, hits);
    if (norm.joined.length > 0) {
      const seg = this.segmentedView(norm);
      if (seg) this.matchView(seg.text, seg, norm.scripts, span?.via ?? 'text', span, hits);
    }
    if (depth >= this.opts.maxDepth || budget.budget <= 0) return;
    for (const p of findEncodedPayloads(text, budget.budget, norm.runs)) {
      budget.budget -= p.text.length;
      this.matchAt(p.text, depth + 1, span ?? { start: p.start, end: p.end, via: p.encoding }, hits, budget);
    }
  }

  /**
   * Runs the candidate rules on one view; returns whether a rot13-spelled
   * keyword was seen. `offsets` maps view chars back to the original text;
   * `scanned`, when given, is the count of the main prefilter's hits already
   * found in the view.
   */
  private matchView(view: string, offsets: OffsetMap, scripts: number, via: Via, span: Span | undefined, hits: RuleHit[], scanned?: number): boolean {
    const { rules, state } = this;
    const { first } = state;
    state.reset();
    const keywordCount = scanned ?? this.prefilter.scan(view);
    const keywordHits = this.prefilter.hits;
    // Second groups first: a rule whose second group has no hit cannot match, and takes no hits.
    state.takeSecondGroups(keywordHits, keywordCount);
    // Negative rules matter only once the positive ones reach the minimum score: their hits wait till then.
    const deferNegative = this.threshold > 0;
    this.markLive(deferNegative ? 1 : -1);
    state.takeAnchors(keywordHits, keywordCount);
    const rot13Seen = state.rot13Hits >= 2;
    if (scripts !== 0) {
      this.viewScripts = scripts;
      if ((scripts & this.scriptKeywordScripts) !== 0) {
        const script = this.scriptPrefilter!;
        const n = script.scan(view);
        const scriptHits = script.hits;
        for (let h = 0; h < n * 3; h += 3) this.onScriptHit(scriptHits[h]!, scriptHits[h + 1]!, scriptHits[h + 2]!);
      }
      for (const r of this.mixedScriptRules) {
        if ((rules[r]!.scripts & scripts) === 0) continue;
        // Hits of its ASCII keywords came first; a search from the start covers both kinds.
        first[r] = 0;
        state.windowCount[r] = 0;
        state.anchorCount[r] = 0;
      }
    }
    let potential = 0;
    let candidates = this.takeCandidates();
    for (let i = 0; i < candidates; i++) potential += this.positiveWeight[this.candidates[i]!]!;
    for (const h of hits) potential += h.rule.weight > 0 ? h.rule.weight : 0;
    if (potential < this.threshold) return rot13Seen;
    let score = 0;
    for (const h of hits) score += h.rule.weight;
    // Positive rules first; negative ones only matter once the positives reach the threshold.
    for (const pass of [1, 0]) {
      if (pass === 0 && score < this.threshold) break;
      if (pass === 0 && deferNegative) {
        this.markLive(0);
        // A mixed-script rule whose script is in the view is searched from the start: it takes no anchors.
        for (const r of this.mixedScriptRules) if ((rules[r]!.scripts & scripts) !== 0) state.live[r] = 0;
        state.takeAnchors(keywordHits, keywordCount);
        candidates = this.takeCandidates();
      }
      for (let i = 0; i < candidates; i++) {
        const r = this.candidates[i]!;
        const rule = rules[r]!;
        if (this.positive[r] !== pass || hits.some((h) => h.rule === rule)) continue;
        const found = this.find(rule, r, view);
        if (!found) continue;
        score += rule.weight;
        const s = found.index;
        const e = s + found[0].length;
        hits.push({ rule, start: span ? span.start : offsets.offset(s), end: span ? span.end : offsets.offset(e), via, phrase: found[0] });
      }
    }
    return rot13Seen;
  }

  /**
   * Normalized text with words spaced out letter by letter and no wider gap
   * (`f o r g e t e v e r y t h i n g`) split back into words; undefined
   * when no joined run is long enough to hold several words.
   */
  private segmentedView(norm: NormalizedText): { text: string } & OffsetMap | undefined {
    const { text, map, joined } = norm;
    let out = '';
    const outMap: number[] = [];
    let at = 0;
    for (let k = 0; k < joined.length; k += 2) {
      const s = joined[k]!;
      const e = joined[k + 1]!;
      // Long enough for several words, short enough to keep the split cheap.
      if (e - s < 6 || e - s > MAX_SEGMENT) continue;
      for (; at < s; at++) (out += text[at]), outMap.push(map[at]!);
      const words = this.segmenter.split(text.slice(s, e));
      for (const ch of words) {
        out += ch;
        outMap.push(map[at]!);
        if (ch !== ' ') at++;
      }
    }
    if (at === 0) return undefined;
    for (; at <= text.length; at++) {
      if (at < text.length) out += text[at];
      outMap.push(map[at]!);
    }
    const segMap = Int32Array.from(outMap);
    return { text: out, offset: (i) => segMap[i]! };
  }

  /** The rule's first match in the windows around its keyword hits (offsets in `view`). */
  private find(rule: ExtractionRule, r: number, view: string): RegExpExecArray | null {
    const sticky = rule.sticky;
    const state = this.state;
    const anchors = state.anchorCount[r]!;
    if (sticky && anchors > 0 && anchors <= MAX_ANCHORS) {
      const alsoCount = state.alsoCount[r]!;
      const reach = alsoCount <= MAX_ALSO ? this.wordReach[r]! : -1;
      const { anchors: starts, anchorWords, alsoHits } = state;
      const lag = 1 - this.maxKeywordLength;
      // Anchors come in order of their end, so a second-group hit that ends a
      // longest keyword before one anchor's start is behind every later one too.
      let from = r * MAX_ALSO * 3;
      const to = from + alsoCount * 3;
      const wordStart = rule.wordStart;
      for (let k = r * MAX_ANCHORS, last = k + anchors; k < last; k++) {
        const at = starts[k]!;
        // Inside a word: the regex's look-behind would fail at once.
        if (wordStart && at > 0 && isAsciiWordCode(view.charCodeAt(at - 1))) continue;
        if (reach >= 0) {
          while (from < to && alsoHits[from]! <= at + lag) from += 3;
          if (!this.alsoWithin(from, to, at, anchorWords[k]! + reach)) continue;
        }
        sticky.lastIndex = at;
        const m = sticky.exec(view);
        if (m) return m;
      }
      return null;
    }
    const re = rule.regex;
    if (sticky && anchors > MAX_ANCHORS) {
      re.lastIndex = state.first[r]!;
      return re.exec(view);
    }
    const count = state.windowCount[r]!;
    // Script-gated rules have no hit positions; too many hits: scan from the last kept one on.
    if (count === 0 || count > MAX_WINDOWS) {
      re.lastIndex = count === 0 ? 0 : state.windows[r * MAX_WINDOWS + MAX_WINDOWS - 1]!;
      return re.exec(view);
    }
    for (let k = 0; k < count; k++) {
      const from = state.windows[r * MAX_WINDOWS + k]!;
      re.lastIndex = 0;
      const m = re.exec(view.slice(from, from + LOOKBEHIND + LOOKAHEAD));
      if (m) {
        m.index += from;
        return m;
      }
    }
    return null;
  }

  /**
   * Whether one of a rule's second-group hits in alsoHits[from, to) starts at
   * or after `start` and at most at word position `limit`: where a match
   * from `start` can hold it.
   */
  private alsoWithin(from: number, to: number, start: number, limit: number): boolean {
    const { alsoHits } = this.state;
    // Later hits end later, so past this word position none can start in reach.
    const beyond = limit + this.maxKeywordSpaces;
    for (let i = from; i < to; i += 3) {
      const words = alsoHits[i + 2]!;
      if (words > beyond) return false;
      if (words <= limit && alsoHits[i + 1]! >= start) return true;
    }
    return false;
  }
}

function ruleLists(perKeyword: readonly (readonly number[])[]): RuleLists {
  const start = new Int32Array(perKeyword.length + 1);
  perKeyword.forEach((rules, k) => (start[k + 1] = start[k]! + rules.length));
  return { start, rules: Int32Array.from(perKeyword.flat()) };
}

function spacesIn(keyword: string): number {
  return keyword.split(' ').length - 1;
}

/** [a-z0-9]: what a wordStart rule's look-behind refuses before a match. */
function isAsciiWordCode(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
}

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

/** How far apart (in characters of the part) separate pieces of evidence may lie and still add up. */
export const EVIDENCE_WINDOW = 500;

/**
 * A part's score. Several rules that match one stretch of text describe one
 * piece of evidence: overlapping hits of positive rules count once, at the
 * strongest weight among them. Separate stretches add up when they lie within
 * EVIDENCE_WINDOW characters of each other, so that two weak signs count
 * together in one passage but not from unrelated paragraphs of a long prompt;
 * the best such passage gives the positive part of the score. Every negative
 * rule hit counts in full. (A decoded payload's hits all span the payload.)
 */
export function scoreHits(hits: readonly RuleHit[]): number {
  const stretches: { start: number; weight: number }[] = [];
  let clusterEnd = -1;
  for (const h of hits.filter((x) => x.rule.weight > 0).sort((a, b) => a.start - b.start)) {
    const last = stretches[stretches.length - 1];
    if (last === undefined || h.start >= clusterEnd) stretches.push({ start: h.start, weight: h.rule.weight });
    else last.weight = Math.max(last.weight, h.rule.weight);
    clusterEnd = Math.max(clusterEnd, h.end);
  }
  let best = 0;
  for (let i = 0, j = 0, sum = 0; i < stretches.length; i++) {
    for (; j < stretches.length && stretches[j]!.start < stretches[i]!.start + EVIDENCE_WINDOW; j++) sum += stretches[j]!.weight;
    best = Math.max(best, sum);
    sum -= stretches[i]!.weight;
  }
  let score = best;
  for (const h of hits) if (h.rule.weight < 0) score += h.rule.weight;
  return score;
}
