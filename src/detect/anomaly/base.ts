import type { StateStore } from '../../state/store.js';
import type { Detector, DetectContext, Exchange, Finding } from '../../types.js';
import { IDENTITY_PATH, identityValue, type MaybePromise, type RecordOps, StoredRecords, Subject, type SubjectLookup } from './identity.js';
import type { PriceLookup } from './prices.js';
import type { AnomalyRule, IdentityKind } from './rules.js';

// What every anomaly detector shares: its rule, the state store, the loop
// over the identities the rule tracks, and the cooldown that turns one
// incident into one finding. With the in-memory store the loop runs
// synchronously (no promise per request) on the identities all detectors
// share for the exchange; with Redis it awaits.

export interface DetectorDeps {
  readonly rule: AnomalyRule;
  readonly store: StateStore;
  /** The exchange's identities and their records, when the store answers synchronously. */
  readonly subjects: SubjectLookup | undefined;
  readonly prices: PriceLookup;
  /** An object the detectors built together share (e.g. a series several of them read), made by the first to ask for `key`. */
  share<T>(key: string, make: () => T): T;
}

export type DetectorFactory = (deps: DetectorDeps) => Detector;

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface Verdict {
  readonly title: string;
  /** The explanation, e.g. "41 req/min for key fp:… against a baseline of 3.2 ± 1.1 req/min over the last 7 days". */
  readonly summary: string;
  readonly kind: string;
}

export interface IdentityCheck<S> {
  /** False when the exchange is of no interest: nothing is observed. */
  applies?(exchange: Exchange): boolean;
  /**
   * Records the exchange in the identity's state and returns what the judge
   * needs. Records are named per identity kind with `fieldNames`.
   */
  observe(records: RecordOps, kind: IdentityKind, exchange: Exchange, now: number): MaybePromise<S>;
  /** A verdict when the observation is anomalous; `subject.label` names the identity, e.g. `key fp:3f9a…`. */
  judge(s: S, subject: Subject, exchange: Exchange, now: number): Verdict | undefined;
}

/** Record names of one detector per identity kind, e.g. `rq.key`, made once at start-up. */
export function fieldNames(tag: string): Readonly<Record<IdentityKind, string>> {
  return { key: `${tag}.key`, user: `${tag}.user`, team: `${tag}.team`, ip: `${tag}.ip` };
}

export function detectorId(rule: AnomalyRule): string {
  return `anomaly.${rule.id}`;
}

/** A detector that observes each identity the rule tracks and judges it on its own history. */
export function identityDetector<S>({ rule, store, subjects }: DetectorDeps, check: IdentityCheck<S>): Detector {
  const kinds = rule.identities;
  const cooldownMs = rule.cooldownMinutes * MINUTE_MS;
  const cooldown = fieldNames(`cd.${rule.id}`);
  const id = detectorId(rule);
  if (subjects) {
    return {
      id,
      category: 'anomaly',
      detect(exchange: Exchange, ctx: DetectContext): Finding[] {
        const out: Finding[] = [];
        if (check.applies && !check.applies(exchange)) return out;
        for (const kind of kinds) {
          const subject = subjects.of(exchange, kind);
          if (subject === undefined) continue;
          const s = check.observe(subject.records, kind, exchange, ctx.now) as S;
          const v = check.judge(s, subject, exchange, ctx.now);
          if (v && subject.records.claim(cooldown[kind], ctx.now, cooldownMs)) out.push(anomalyFinding(rule, subject, v));
        }
        return out;
      },
    };
  }
  return {
    id,
    category: 'anomaly',
    async detect(exchange: Exchange, ctx: DetectContext): Promise<Finding[]> {
      const out: Finding[] = [];
      if (check.applies && !check.applies(exchange)) return out;
      for (const kind of kinds) {
        const value = identityValue(exchange, kind);
        if (value === undefined) continue;
        const subject = new Subject(kind, value, new StoredRecords(store, value));
        const s = await check.observe(subject.records, kind, exchange, ctx.now);
        const v = check.judge(s, subject, exchange, ctx.now);
        if (v && (await subject.records.claim(cooldown[kind], ctx.now, cooldownMs))) out.push(anomalyFinding(rule, subject, v));
      }
      return out;
    },
  };
}

function anomalyFinding(rule: AnomalyRule, { kind, value }: Subject, v: Verdict): Finding {
  return {
    detector: detectorId(rule),
    category: 'anomaly',
    severity: rule.severity,
    title: v.title,
    summary: v.summary,
    kind: v.kind,
    location: { path: IDENTITY_PATH[kind] },
    // A finding about a key carries the key's fingerprint (the alert's evidence), never more.
    ...(kind === 'key' ? { fingerprint: value } : {}),
    ...(rule.runbook ? { runbook: rule.runbook } : {}),
  };
}

export function warmupMs(rule: AnomalyRule): number {
  return rule.warmup.minAgeHours * HOUR_MS;
}

export function isAuthFailure(status: number): boolean {
  return status === 401 || status === 403;
}

/** Failures the error-rate detector counts; auth and not-found answers have detectors of their own. */
export function isError(status: number): boolean {
  return status === 0 || (status >= 400 && status !== 401 && status !== 403 && status !== 404);
}

// Characters per token, roughly, for English text and code.
const CHARS_PER_TOKEN = 4;

/** Prompt size in characters; estimated from the prompt tokens when no text was captured (replay). */
export function promptSize(exchange: Exchange): number {
  let n = 0;
  for (const part of exchange.prompt) n += part.text.length;
  return n > 0 ? n : (exchange.usage.promptTokens ?? 0) * CHARS_PER_TOKEN;
}

export function totalTokens(exchange: Exchange): number {
  const u = exchange.usage;
  return u.totalTokens ?? (u.promptTokens ?? 0) + (u.completionTokens ?? 0);
}
