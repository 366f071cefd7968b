import type { Alert } from '../types.js';
import type { Notification } from './notification.js';

// Dedup and grouping. Alerts with the same (detector, identity, evidence
// fingerprint) form one incident: the first fires at once, repeats are
// folded into its count, an update goes out at most once per group window
// while the count grows, and a resolve message when no repeat came for
// resolveAfterMs. An incident older than the dedup window fires afresh.

export interface IncidentOptions {
  readonly dedupWindowMs: number;
  readonly groupWindowMs: number;
  readonly resolveAfterMs: number;
  readonly maxIncidents: number;
}

interface Incident {
  alert: Alert;
  readonly openedAt: number;
  count: number;
  lastSeen: number;
  sentCount: number;
  sentAt: number;
  /** Another replica owns the incident (Redis dedup): this one stays silent. */
  muted: boolean;
}

export type Observation = { readonly fresh: true; readonly key: string; readonly alert: Alert } | { readonly fresh: false };

/** The identity part of the dedup key: the key fingerprint, else the user, else the client IP. */
export function identityKey(alert: Alert): string {
  const i = alert.identity;
  return i.key_fingerprint ?? (i.user !== undefined ? `user:${i.user}` : i.client_ip !== undefined ? `ip:${i.client_ip}` : '-');
}

export function dedupKey(alert: Alert): string {
  const ev = alert.evidence[0];
  return `${alert.detector}\u0000${identityKey(alert)}\u0000${ev?.fingerprint ?? ev?.location ?? ''}`;
}

export class IncidentTracker {
  private readonly open = new Map<string, Incident>();

  constructor(private readonly opts: IncidentOptions) {}

  get size(): number {
    return this.open.size;
  }

  observe(alert: Alert, now: number): Observation {
    const key = dedupKey(alert);
    const existing = this.open.get(key);
    if (existing && now - existing.openedAt < this.opts.dedupWindowMs) {
      existing.count += 1;
      existing.lastSeen = Math.max(existing.lastSeen, now);
      return { fresh: false };
    }
    if (existing) this.open.delete(key);
    else if (this.open.size >= this.opts.maxIncidents) {
      // Forget the oldest incident (Map keeps insertion order); it will not get a resolve message.
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
    this.open.set(key, { alert, openedAt: now, count: 1, lastSeen: now, sentCount: 1, sentAt: now, muted: false });
    return { fresh: true, key, alert };
  }

  /** Called when another replica already alerted this incident. */
  mute(key: string): void {
    const incident = this.open.get(key);
    if (incident) incident.muted = true;
  }

  /** Updates for grown incidents and resolves for quiet ones, as of `now`. */
  tick(now: number): Notification[] {
    const out: Notification[] = [];
    for (const [key, inc] of this.open) {
      const quiet = now - inc.lastSeen >= this.opts.resolveAfterMs;
      const grown = inc.count > inc.sentCount;
      if (quiet) {
        this.open.delete(key);
        if (!inc.muted) out.push({ kind: 'resolved', alert: this.snapshot(inc, now) });
      } else if (grown && now - inc.sentAt >= this.opts.groupWindowMs) {
        inc.sentCount = inc.count;
        inc.sentAt = now;
        if (!inc.muted) out.push({ kind: 'update', alert: this.snapshot(inc, now) });
      }
    }
    return out;
  }

  private snapshot(inc: Incident, now: number): Alert {
    inc.alert = { ...inc.alert, time: new Date(now).toISOString(), count: inc.count, last_seen: new Date(inc.lastSeen).toISOString() };
    return inc.alert;
  }
}
