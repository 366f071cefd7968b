import type { LRUCache } from 'lru-cache';
import { growingLru } from '../../lru.js';

// Passive liveness: a secret seen in content and the same secret seen as a
// request's credential (by fingerprint) tell together whether the leaked
// key works, from the upstream's own answer. No verification call, ever.

export type KeyState = 'live' | 'revoked';

export interface LivenessOptions {
  readonly cacheSize: number;
  readonly ttlSeconds: number;
}

export class LivenessTracker {
  /** Fingerprints seen leaked in content → when first seen. */
  private readonly leaked: LRUCache<string, number>;
  /** Fingerprints used as a credential → the latest upstream verdict. */
  private readonly used: LRUCache<string, KeyState>;

  constructor(opts: LivenessOptions) {
    const ttl = opts.ttlSeconds * 1000;
    this.leaked = growingLru({ maxEntries: opts.cacheSize, ttl });
    this.used = growingLru({ maxEntries: opts.cacheSize, ttl });
  }

  /** Records the upstream's answer to a request made with this key; returns the state it implies, if any. */
  recordUse(fingerprint: string, status: number): KeyState | undefined {
    const state = stateOf(status);
    if (state) this.used.set(fingerprint, state);
    return state;
  }

  recordLeak(fingerprint: string, now: number): void {
    if (!this.leaked.has(fingerprint)) this.leaked.set(fingerprint, now);
  }

  stateOf(fingerprint: string): KeyState | undefined {
    return this.used.get(fingerprint);
  }

  leakedAt(fingerprint: string): number | undefined {
    return this.leaked.get(fingerprint);
  }
}

function stateOf(status: number): KeyState | undefined {
  if (status >= 200 && status < 300) return 'live';
  if (status === 401 || status === 403) return 'revoked';
  return undefined;
}
