import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { StateConfig } from './config.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { StateStore } from './types.js';

export * from './types.js';
export type { StateConfig } from './config.js';

/** In-memory state, or Redis-shared state (with a local fallback) when `redisUrl` is set. */
export function createStateStore(config: StateConfig, deps: { metrics: Metrics; logger: Logger }): StateStore {
  if (config.redisUrl === null || config.redisUrl === '') {
    deps.metrics.stateBackend.add(1, { backend: 'memory' });
    return new MemoryStore({ maxEntries: config.maxEntries, maxBytes: config.maxBytes });
  }
  return new RedisStore(
    {
      url: config.redisUrl,
      keyPrefix: config.keyPrefix,
      maxEntries: config.maxEntries,
      maxBytes: config.maxBytes,
      commandTimeoutMs: config.timeouts.commandMs,
      connectTimeoutMs: config.timeouts.connectMs,
      retryAfterMs: config.timeouts.retryAfterMs,
      ttlMs: config.ttlDays * 86_400_000,
    },
    deps,
  );
}
