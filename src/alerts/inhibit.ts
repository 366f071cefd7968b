import type { Alert } from '../types.js';
import { compileIdPatterns, type IdMatcher } from './match.js';

// Inhibition: a source alert (by default any credential alert) about key X
// suppresses target alerts (by default anomalies) whose identity is key X
// for a window — a leaked key's spike alerts add nothing to the leak alert.

export interface InhibitionOptions {
  readonly windowMs: number;
  readonly source: readonly string[];
  readonly target: readonly string[];
  readonly maxKeys?: number;
}

export class Inhibitor {
  private readonly isSource: IdMatcher;
  private readonly isTarget: IdMatcher;
  /** key fingerprint → inhibited until (ms). */
  private readonly until = new Map<string, number>();
  private readonly maxKeys: number;

  constructor(private readonly opts: InhibitionOptions) {
    this.isSource = compileIdPatterns(opts.source, false);
    this.isTarget = compileIdPatterns(opts.target, false);
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Records the keys a source alert is about: its evidence fingerprints and, for a header finding, the caller's key. */
  record(alert: Alert, now: number): void {
    if (this.opts.windowMs === 0 || !this.isSource(alert.detector)) return;
    const expires = now + this.opts.windowMs;
    for (const ev of alert.evidence) {
      if (ev.fingerprint) this.set(ev.fingerprint, expires);
      if (ev.location.startsWith('request.headers') && alert.identity.key_fingerprint) this.set(alert.identity.key_fingerprint, expires);
    }
  }

  inhibited(alert: Alert, now: number): boolean {
    const fp = alert.identity.key_fingerprint;
    if (fp === undefined || !this.isTarget(alert.detector)) return false;
    const until = this.until.get(fp);
    if (until === undefined) return false;
    if (until <= now) {
      this.until.delete(fp);
      return false;
    }
    return true;
  }

  private set(fp: string, expires: number): void {
    this.until.delete(fp);
    if (this.until.size >= this.maxKeys) {
      const oldest = this.until.keys().next().value;
      if (oldest !== undefined) this.until.delete(oldest);
    }
    this.until.set(fp, expires);
  }
}
