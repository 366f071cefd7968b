import type { LRUCache } from 'lru-cache';
import { growingLru } from '../../lru.js';

// One leaked secret seen in many prompts, by many users, is one incident
// with a count. Bounded: a fixed number of incidents, and a fixed number of
// distinct users and client IPs remembered per incident.

export interface Incident {
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly users: number;
  readonly clientIps: number;
}

interface IncidentState {
  count: number;
  firstSeen: number;
  lastSeen: number;
  users: Set<string>;
  ips: Set<string>;
}

export class LeakCorrelator {
  private readonly incidents: LRUCache<string, IncidentState>;

  constructor(
    cacheSize: number,
    private readonly maxSightings: number,
  ) {
    this.incidents = growingLru({ maxEntries: cacheSize });
  }

  record(fingerprint: string, now: number, who: { user?: string | undefined; clientIp: string }): Incident {
    let s = this.incidents.get(fingerprint);
    if (!s) {
      s = { count: 0, firstSeen: now, lastSeen: now, users: new Set(), ips: new Set() };
      this.incidents.set(fingerprint, s);
    }
    s.count++;
    s.lastSeen = Math.max(s.lastSeen, now);
    if (who.user && s.users.size < this.maxSightings) s.users.add(who.user);
    if (who.clientIp && s.ips.size < this.maxSightings) s.ips.add(who.clientIp);
    return { count: s.count, firstSeen: s.firstSeen, lastSeen: s.lastSeen, users: s.users.size, clientIps: s.ips.size };
  }
}
