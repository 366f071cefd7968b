import { createHash } from 'node:crypto';

import type { Logger } from '../log.js';
import { connectRedis } from '../net/redis-client.js';
import { redactUrl } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';

// Cross-replica dedup: the replica that first sets the incident's key (SET
// NX PX) alerts; the others stay silent for the window. Redis only ever sees
// a hash of the dedup key (never a fingerprint or an IP). Any Redis error or
// a slow answer falls back to local dedup: the alert goes out.

export type ClaimResult = 'claimed' | 'taken' | 'fallback';

export interface DedupClaimer {
  claim(key: string, ttlMs: number): Promise<ClaimResult>;
  close(): Promise<void>;
}

export function hashedDedupKey(key: string): string {
  return `gatewatch:alert:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

export function createRedisClaimer(url: string, opts: { timeoutMs: number; logger: Logger; metrics: Metrics }): DedupClaimer {
  const redis = connectRedis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(opts.timeoutMs * 4, 1000),
    retryStrategy: (times) => Math.min(times * 200, 5000),
  });
  let warned = false;
  redis.on('error', (err: NodeJS.ErrnoException) => {
    if (warned) return;
    warned = true;
    opts.logger.warn({ code: err.code, redis: redactUrl(url) }, 'alerts: Redis unavailable, deduplicating locally');
  });
  redis.on('ready', () => {
    warned = false;
  });

  // Right after start the connection is still being made: wait for it
  // (within the claim's timeout) rather than fail the first alerts.
  const whenReady = (): Promise<void> => {
    if (redis.status === 'ready') return Promise.resolve();
    if (redis.status !== 'connecting' && redis.status !== 'connect' && redis.status !== 'wait') return Promise.reject(new Error('redis not connected'));
    return new Promise((resolve, reject) => {
      const onReady = () => (redis.off('error', onError), resolve());
      const onError = (err: Error) => (redis.off('ready', onReady), reject(err));
      redis.once('ready', onReady);
      redis.once('error', onError);
    });
  };

  const fallback = (op: string): ClaimResult => {
    opts.metrics.stateErrors.add(1, { backend: 'redis', op });
    return 'fallback';
  };

  return {
    async claim(key, ttlMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<ClaimResult>((resolve) => {
        timer = setTimeout(() => resolve(fallback('alert_dedup_timeout')), opts.timeoutMs);
        timer.unref();
      });
      const attempt = whenReady()
        .then(() => redis.set(hashedDedupKey(key), '1', 'PX', ttlMs, 'NX'))
        .then((r): ClaimResult => (r === 'OK' ? 'claimed' : 'taken'))
        .catch(() => fallback('alert_dedup'));
      try {
        return await Promise.race([attempt, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
