import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';

// ioredis is loaded only when Redis is configured: most deployments run on
// in-memory state and should not carry the client in memory.

const load = createRequire(import.meta.url);

export function connectRedis(url: string, options: IORedis.RedisOptions): IORedis.Redis {
  const { Redis } = load('ioredis') as typeof IORedis;
  return new Redis(url, options);
}
