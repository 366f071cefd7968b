import type { DetectContext, Detector, Exchange, Finding, TextPart } from '../../types.js';
import type { EchoConfig } from './config.js';
import { fold, isWordCode, scriptOf, SCRIPT_CJK } from './normalize.js';

// System-prompt echo: the request's system/developer text is cut into word
// shingles, of which only 52-bit hashes are kept; the completion is hashed
// the same way as it streams in and matched against them. An echo is a high
// share of the prompt's shingles, or a long verbatim run of them.

export const ECHO_DETECTOR_ID = 'exfiltration.system-prompt-echo';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Turns folded text into word hashes, chunk by chunk: words split across chunks hash the same. */
class WordHasher {
  private h = FNV_OFFSET;
  private inWord = false;
  private pendingHigh = 0;
  constructor(private readonly onWord: (hash: number) => void) {}

  push(chunk: string): void {
    for (let i = 0; i < chunk.length; i++) {
      let cp = chunk.charCodeAt(i);
      if (this.pendingHigh !== 0) {
        if (cp >= 0xdc00 && cp <= 0xdfff) cp = (this.pendingHigh - 0xd800) * 0x400 + (cp - 0xdc00) + 0x10000;
        this.pendingHigh = 0;
      } else if (cp >= 0xd800 && cp <= 0xdbff) {
        this.pendingHigh = cp;
        continue;
      }
      if (cp < 0x80) this.char(cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp, false);
      else {
        const cjk = scriptOf(cp) === SCRIPT_CJK;
        const f = fold(cp);
        for (let k = 0; k < f.length; k++) this.char(f.charCodeAt(k), cjk);
      }
    }
  }

  /** Ends the last word (end of stream). */
  end(): void {
    if (this.inWord) this.emit();
  }

  private char(c: number, ownWord: boolean): void {
    if (!isWordCode(c)) {
      if (this.inWord) this.emit();
      return;
    }
    // CJK has no spaces: each ideograph or kana is a word of its own.
    if (ownWord && this.inWord) this.emit();
    this.h = Math.imul(this.h ^ c, FNV_PRIME);
    this.inWord = true;
    if (ownWord) this.emit();
  }

  private emit(): void {
    this.onWord(this.h >>> 0);
    this.h = FNV_OFFSET;
    this.inWord = false;
  }
}

/** Feeds word hashes into a ring of the last k and reports each full shingle's hash. */
class Shingler {
  private readonly ring: Uint32Array;
  private count = 0;
  constructor(private readonly k: number, private readonly onShingle: (hash: number) => void) {
    this.ring = new Uint32Array(k);
  }
  word(hash: number): void {
    this.ring[this.count % this.k] = hash;
    this.count++;
    if (this.count < this.k) return;
    let a = 0x9e3779b1;
    let b = 0x85ebca77;
    for (let j = this.count - this.k; j < this.count; j++) {
      const w = this.ring[j % this.k]!;
      a = Math.imul(a ^ w, 0x01000193);
      b = Math.imul(b + w, 0xc2b2ae35) ^ (b >>> 15);
    }
    this.onShingle((a >>> 0) * 0x200000 + (b & 0x1fffff));
  }
  get words(): number {
    return this.count;
  }
}

export interface EchoResult {
  /** Share of the system prompt's distinct shingles seen in the completion (0–1). */
  readonly share: number;
  /** Longest run of consecutive completion words that is verbatim from the system prompt. */
  readonly longestRunWords: number;
  readonly echoed: boolean;
}

/**
 * Tracks one in-flight exchange. Build it from the system text, then `push`
 * completion chunks as they arrive; `result()` at any time. Holds only hashes.
 */
export class EchoTracker {
  private readonly shingles = new Set<number>();
  private readonly seen = new Set<number>();
  private readonly completion: WordHasher;
  private readonly promptWords: number;
  private run = 0;
  private longestRun = 0;
  readonly active: boolean;

  constructor(systemTexts: readonly string[], private readonly cfg: EchoConfig) {
    let words = 0;
    for (const text of systemTexts) {
      const shingler = new Shingler(cfg.shingleWords, (h) => this.shingles.add(h));
      const hasher = new WordHasher((w) => shingler.word(w));
      hasher.push(text);
      hasher.end();
      words += shingler.words;
    }
    this.promptWords = words;
    this.active = words >= cfg.minSystemWords && this.shingles.size > 0;
    const shingler = new Shingler(cfg.shingleWords, (h) => this.onShingle(h));
    this.completion = new WordHasher((w) => shingler.word(w));
  }

  private onShingle(h: number): void {
    if (this.shingles.has(h)) {
      this.seen.add(h);
      this.run++;
      if (this.run > this.longestRun) this.longestRun = this.run;
    } else this.run = 0;
  }

  push(chunk: string): void {
    if (this.active) this.completion.push(chunk);
  }

  /** Marks the end of one completion part, so words do not join across parts. */
  endPart(): void {
    if (!this.active) return;
    this.completion.end();
  }

  result(): EchoResult {
    if (!this.active) return { share: 0, longestRunWords: 0, echoed: false };
    const share = this.seen.size / this.shingles.size;
    const longestRunWords = this.longestRun > 0 ? this.longestRun + this.cfg.shingleWords - 1 : 0;
    return {
      share,
      longestRunWords,
      echoed: share >= this.cfg.minShare || longestRunWords >= Math.min(this.cfg.minRunWords, this.promptWords),
    };
  }
}

const SYSTEM_ROLES = new Set(['system', 'developer']);

/** The system/developer texts of a request, for an EchoTracker. */
export function systemTexts(prompt: readonly TextPart[]): string[] {
  return prompt.filter((p) => SYSTEM_ROLES.has(p.role)).map((p) => p.text);
}

export function echoFinding(result: EchoResult, path: string): Finding {
  const pct = Math.round(result.share * 100);
  return {
    detector: ECHO_DETECTOR_ID,
    category: 'exfiltration',
    severity: result.share >= 0.8 ? 'critical' : 'high',
    title: 'Completion reproduces the system prompt',
    summary: `${pct}% of the system prompt's word shingles appear in the completion; longest verbatim run ${result.longestRunWords} words`,
    location: { path },
    kind: 'echo',
  };
}

export function createEchoDetector(cfg: EchoConfig): Detector {
  return {
    id: ECHO_DETECTOR_ID,
    category: 'exfiltration',
    detect(exchange: Exchange, _ctx: DetectContext): Finding[] {
      const system = systemTexts(exchange.prompt);
      if (system.length === 0) return [];
      const tracker = new EchoTracker(system, cfg);
      if (!tracker.active) return [];
      const outputs: { path: string; text: string }[] = [
        ...exchange.completion.filter((p) => p.role !== 'system'),
        ...exchange.toolCalls.map((t) => ({ path: t.path, text: t.arguments })),
      ];
      for (const out of outputs) {
        tracker.push(out.text);
        tracker.endPart();
        const r = tracker.result();
        if (r.echoed) return [echoFinding(r, out.path)];
      }
      return [];
    },
  };
}
