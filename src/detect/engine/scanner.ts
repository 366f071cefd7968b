import { SEVERITIES, type Severity } from '../../types.js';
import { CHECKSUMS } from './checksums.js';
import { shannonEntropy } from './entropy.js';
import { KeywordPrefilter } from './prefilter.js';
import type { CredentialRule, RulePack } from './rules-load.js';

// The scanning engine: one prefilter pass over the text, then only the rules
// whose keywords occurred, each on merged windows around its hits, then the
// entropy, placeholder, allowlist and checksum checks.

/** A candidate secret. `secret` lives only in memory: fingerprint it and drop it. */
export interface SecretMatch {
  readonly rule: CredentialRule;
  /** Offsets of the secret itself (not the keyword context around it). */
  readonly start: number;
  readonly end: number;
  readonly secret: string;
  /** End of the whole pattern match (keyword context included): when more text could still change it. */
  readonly matchEnd: number;
  readonly severity: Severity;
  readonly checksum: 'valid' | 'invalid' | 'none';
}

/** A run of one character this long marks a placeholder in a short secret (`xxxxxx`, `000000`). */
const PLACEHOLDER_RUN = 6;
const PLACEHOLDER_RUN_MAX_SECRET = 100;
/** How often a window may grow when a match reaches its end. */
const MAX_WINDOW_GROWTH = 3;

function hasLongRun(s: string): boolean {
  let run = 1;
  for (let i = 1; i < s.length; i++) {
    run = s.charCodeAt(i) === s.charCodeAt(i - 1) ? run + 1 : 1;
    if (run >= PLACEHOLDER_RUN) return true;
  }
  return false;
}

function lowerSeverity(s: Severity): Severity {
  return SEVERITIES[Math.max(0, SEVERITIES.indexOf(s) - 1)]!;
}

export interface ScannerOptions {
  readonly disabledRules?: readonly string[];
}

export class SecretScanner {
  readonly rules: readonly CredentialRule[];
  /** The longest stretch of text one match may need: the stream scanner's carry-over. */
  readonly maxSpan: number;
  private readonly prefilter: KeywordPrefilter;
  private readonly keywordRules: readonly (readonly number[])[];
  private readonly keywordLength: readonly number[];
  private readonly placeholder: RegExp | undefined;
  // Per-scan state, reset at the start of every scan (scans are synchronous).
  private text = '';
  private candidates: SecretMatch[] = [];
  /** Per non-anchored rule: its windows as [start, end, start, end, ...]. */
  private windows: Map<number, number[]> | undefined;
  /** Per rule: the keyword start last tried, so a rule runs once per position. */
  private readonly lastTried: Int32Array;

  constructor(pack: RulePack, opts: ScannerOptions = {}) {
    const disabled = new Set(opts.disabledRules ?? []);
    this.rules = pack.rules.filter((r) => !disabled.has(r.id));
    this.placeholder = pack.placeholder;
    const index = new Map<string, number>();
    const keywords: string[] = [];
    const keywordRules: number[][] = [];
    this.rules.forEach((rule, r) => {
      for (const k of rule.keywords) {
        const lower = k.toLowerCase();
        let i = index.get(lower);
        if (i === undefined) {
          i = keywords.length;
          index.set(lower, i);
          keywords.push(lower);
          keywordRules.push([]);
        }
        if (!keywordRules[i]!.includes(r)) keywordRules[i]!.push(r);
      }
    });
    this.prefilter = new KeywordPrefilter(keywords);
    this.keywordRules = keywordRules;
    this.keywordLength = keywords.map((k) => k.length);
    this.maxSpan = Math.max(64, ...this.rules.map((r) => r.lookbehind + r.window));
    this.lastTried = new Int32Array(this.rules.length);
  }

  scan(text: string): SecretMatch[] {
    this.text = text;
    this.candidates = [];
    this.windows = undefined;
    this.lastTried.fill(-1);
    const found = this.prefilter.scan(text);
    const hits = this.prefilter.hits;
    for (let h = 0; h < found * 3; h += 3) this.onHit(hits[h]!, hits[h + 1]!);
    const candidates = this.candidates;
    // Filled by onHit (TypeScript cannot see that).
    const windows = this.windows as Map<number, number[]> | undefined;
    if (windows) {
      for (const [r, list] of windows) {
        const rule = this.rules[r]!;
        for (let w = 0; w < list.length; w += 2) this.matchWindow(text, rule, list[w]!, list[w + 1]!, candidates);
      }
    }
    this.text = '';
    this.candidates = [];
    return candidates.length === 0 ? candidates : resolveOverlaps(candidates);
  }

  /** Takes one keyword hit: anchored rules are tried at its start, the others get a window around it. */
  private onHit(keyword: number, end: number): void {
    const start = end - this.keywordLength[keyword]!;
    for (const r of this.keywordRules[keyword]!) {
      const rule = this.rules[r]!;
      if (rule.sticky) {
        // Anchored rule: one sticky attempt right where the keyword starts.
        if (this.lastTried[r] === start) continue;
        this.lastTried[r] = start;
        this.matchAt(this.text, rule, start, this.candidates);
      } else {
        this.addWindow(r, rule, start);
      }
    }
  }

  /** Rules that cannot be anchored search a window around each keyword hit; overlapping windows merge. */
  private addWindow(r: number, rule: CredentialRule, start: number): void {
    const ws = Math.max(0, start - rule.lookbehind);
    const we = Math.min(this.text.length, start + rule.window + 1);
    this.windows ??= new Map();
    let list = this.windows.get(r);
    if (!list) this.windows.set(r, (list = []));
    const n = list.length;
    if (n > 0 && ws <= list[n - 1]!) {
      list[n - 2] = Math.min(list[n - 2]!, ws);
      list[n - 1] = Math.max(list[n - 1]!, we);
    } else list.push(ws, we);
  }

  private matchAt(text: string, rule: CredentialRule, at: number, out: SecretMatch[]): void {
    const re = rule.sticky!;
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null || m[0].length === 0) return;
    const secret = secretOf(rule, m);
    if (!secret) return;
    const accepted = this.accept(rule, secret, at + (secret === m[0] ? 0 : m[0].indexOf(secret)), at + m[0].length);
    if (accepted) out.push(accepted);
  }

  private matchWindow(text: string, rule: CredentialRule, ws: number, we: number, out: SecretMatch[]): void {
    let end = we;
    for (let growth = 0; ; growth++) {
      const slice = text.slice(ws, end);
      const re = rule.regex;
      re.lastIndex = 0;
      let reachedEnd = false;
      const found: SecretMatch[] = [];
      for (let m = re.exec(slice); m !== null; m = re.exec(slice)) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        if (m.index + m[0].length === slice.length && end < text.length) reachedEnd = true;
        const secret = secretOf(rule, m);
        if (!secret) continue;
        const offset = ws + m.index + (secret === m[0] ? 0 : m[0].indexOf(secret));
        const accepted = this.accept(rule, secret, offset, ws + m.index + m[0].length);
        if (accepted) found.push(accepted);
      }
      if (!reachedEnd || growth === MAX_WINDOW_GROWTH) {
        for (const f of found) out.push(f);
        return;
      }
      end = Math.min(text.length, ws + (end - ws) * 4);
    }
  }

  private accept(rule: CredentialRule, secret: string, start: number, matchEnd: number): SecretMatch | undefined {
    const body = rule.prefix !== '' && secret.toLowerCase().startsWith(rule.prefix.toLowerCase()) ? secret.slice(rule.prefix.length) : secret;
    if (rule.minEntropy > 0 && shannonEntropy(body) < rule.minEntropy) return undefined;
    if (secret.length <= PLACEHOLDER_RUN_MAX_SECRET && hasLongRun(body)) return undefined;
    if (this.placeholder?.test(secret)) return undefined;
    for (const a of rule.allowlist) if (a.test(secret)) return undefined;
    let severity = rule.severity;
    let checksum: SecretMatch['checksum'] = 'none';
    if (rule.checksum) {
      checksum = CHECKSUMS[rule.checksum](secret) ? 'valid' : 'invalid';
      if (checksum === 'invalid') {
        if (rule.checksumMismatch === 'reject') return undefined;
        severity = lowerSeverity(severity);
      }
    }
    return { rule, start, end: start + secret.length, secret, matchEnd, severity, checksum };
  }
}

function secretOf(rule: CredentialRule, m: RegExpExecArray): string | undefined {
  if (rule.secretGroup === undefined) return m[0];
  return typeof rule.secretGroup === 'number' ? m[rule.secretGroup] : m.groups?.[rule.secretGroup];
}

function outranks(a: SecretMatch, b: SecretMatch): boolean {
  if (a.rule.priority !== b.rule.priority) return a.rule.priority > b.rule.priority;
  if (a.rule.prefix.length !== b.rule.prefix.length) return a.rule.prefix.length > b.rule.prefix.length;
  return a.end - a.start > b.end - b.start;
}

/** Where candidates overlap, the most specific rule wins; the result is in text order. */
function resolveOverlaps(candidates: SecretMatch[]): SecretMatch[] {
  if (candidates.length <= 1) return candidates;
  const ranked = [...candidates].sort((a, b) => (outranks(a, b) ? -1 : outranks(b, a) ? 1 : a.start - b.start));
  const kept: SecretMatch[] = [];
  for (const c of ranked) {
    if (!kept.some((k) => c.start < k.end && k.start < c.end)) kept.push(c);
  }
  return kept.sort((a, b) => a.start - b.start);
}
