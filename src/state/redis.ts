import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { connectRedis } from '../net/redis-client.js';
import type { Metrics } from '../telemetry/metrics.js';
import { MemoryStore } from './memory.js';
import { memberHash, profileSnapshot, sampleSnapshot, seriesSnapshot } from './records.js';
import { CLAIM_LUA, DISTINCT_LUA, PROFILE_LUA, SAMPLE_LUA, SERIES_LUA } from './redis-scripts.js';
import type {
  BackendName,
  DistinctOptions,
  DistinctSnapshot,
  ProfileSnapshot,
  SampleOptions,
  SampleSnapshot,
  SeriesOptions,
  SeriesSnapshot,
  StateStore,
} from './types.js';

// Shared state in Redis, with a local mirror. Every operation is applied to
// the in-memory store first (cheap, synchronous), then to Redis with a short
// timeout. While Redis is unreachable the local answer is used and Redis is
// not awaited at all; when it is back, answers come from Redis again. Redis
// keys are hashes of the identity, and set members are hashes of the value:
// Redis never holds an IP, a user agent, a user name or a key.

export interface RedisStoreOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** After a failed command, Redis is left alone this long before it is tried again. */
  readonly retryAfterMs: number;
  /** Records untouched this long expire from Redis. */
  readonly ttlMs: number;
}

interface ScriptedRedis extends Redis {
  gwSeries(key: string, ...args: string[]): Promise<string>;
  gwSample(key: string, ...args: string[]): Promise<string>;
  gwProfile(key: string, ...args: string[]): Promise<string>;
  gwDistinct(zkey: string, mkey: string, ...args: string[]): Promise<[number, number, number, string]>;
  gwClaim(key: string, ...args: string[]): Promise<number>;
}

export class RedisStore implements StateStore {
  private readonly local: MemoryStore;
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly ttl: string;
  private mode: BackendName = 'memory';
  private pausedUntil = 0;
  private closed = false;

  constructor(
    private readonly opts: RedisStoreOptions,
    private readonly deps: { metrics: Metrics; logger: Logger },
  ) {
    this.local = new MemoryStore(opts);
    this.prefix = opts.keyPrefix;
    this.ttl = String(Math.round(opts.ttlMs));
    const redis = connectRedis(opts.url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs,
      connectTimeout: opts.connectTimeoutMs,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    redis.defineCommand('gwSeries', { numberOfKeys: 1, lua: SERIES_LUA });
    redis.defineCommand('gwSample', { numberOfKeys: 1, lua: SAMPLE_LUA });
    redis.defineCommand('gwProfile', { numberOfKeys: 1, lua: PROFILE_LUA });
    redis.defineCommand('gwDistinct', { numberOfKeys: 2, lua: DISTINCT_LUA });
    redis.defineCommand('gwClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
    // Connection errors surface as state changes and metrics, not as thrown errors.
    redis.on('error', () => undefined);
    redis.on('ready', () => this.refreshMode());
    redis.on('close', () => this.refreshMode());
    this.redis = redis as ScriptedRedis;
    deps.metrics.stateBackend.add(1, { backend: 'memory' });
  }

  backend(): BackendName {
    return this.mode;
  }

  /** Resolves once Redis answers (or after `timeoutMs`); tells whether it did. */
  async ready(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.redis.status === 'ready') {
        this.refreshMode();
        return true;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  private usable(): boolean {
    return !this.closed && this.redis.status === 'ready' && Date.now() >= this.pausedUntil;
  }

  private refreshMode(): void {
    const next: BackendName = this.usable() ? 'redis' : 'memory';
    if (next === this.mode) return;
    this.deps.metrics.stateBackend.add(-1, { backend: this.mode });
    this.deps.metrics.stateBackend.add(1, { backend: next });
    if (next === 'redis') this.deps.logger.info({ backend: 'redis' }, 'state store: Redis reachable, using shared state');
    else if (!this.closed) this.deps.logger.warn({ backend: 'memory' }, 'state store: Redis unreachable, using local state');
    this.mode = next;
  }

  private failed(op: string): void {
    this.deps.metrics.stateErrors.add(1, { backend: 'redis', op });
    this.pausedUntil = Date.now() + this.opts.retryAfterMs;
    this.refreshMode();
  }

  /** Runs `remote` when Redis is usable; otherwise, or when it fails, answers with `fallback`. */
  private async shared<T>(op: string, fallback: T, remote: () => Promise<T>): Promise<T> {
    if (!this.usable()) {
      this.refreshMode();
      return fallback;
    }
    this.refreshMode();
    try {
      return await remote();
    } catch {
      this.failed(op);
      return fallback;
    }
  }

  /** `prefix` + record field + a hash of the identity: Redis never sees a user name or an IP. */
  private key(field: string, id: string, part = ''): string {
    return `${this.prefix}${field}${part}:${createHash('sha256').update(id).digest('hex').slice(0, 24)}`;
  }

  private seed(id: string, field: string): string {
    const rec = this.local.peek(id, field);
    return rec === undefined ? '' : JSON.stringify(rec);
  }

  async series(id: string, field: string, values: readonly number[], now: number, opts: SeriesOptions): Promise<SeriesSnapshot> {
    const seed = this.seed(id, field);
    const local = this.local.seriesSync(id, field, values, now, opts);
    return this.shared('series', local, async () => {
      const out = await this.redis.gwSeries(
        this.key(field, id),
        seed,
        String(now),
        String(opts.bucketMs),
        String(opts.alpha),
        String(opts.peakDecay),
        this.ttl,
        ...values.map(String),
      );
      return seriesSnapshot(JSON.parse(out) as number[], now, opts.bucketMs);
    });
  }

  async sample(id: string, field: string, value: number, opts: SampleOptions): Promise<SampleSnapshot> {
    const seed = this.seed(id, field);
    const local = this.local.sampleSync(id, field, value, opts);
    return this.shared('sample', local, async () => {
      const out = await this.redis.gwSample(this.key(field, id), seed, String(value), String(opts.alpha), this.ttl);
      return sampleSnapshot(JSON.parse(out) as number[]);
    });
  }

  async distinct(id: string, field: string, member: string, now: number, opts: DistinctOptions): Promise<DistinctSnapshot> {
    const seed = this.seed(id, field);
    const local = this.local.distinctSync(id, field, member, now, opts);
    return this.shared('distinct', local, async () => {
      const [isNew, size, count, first] = await this.redis.gwDistinct(
        this.key(field, id, '.set'),
        this.key(field, id, '.meta'),
        seed,
        String(now),
        String(opts.windowMs),
        String(opts.maxMembers),
        this.ttl,
        String(memberHash(member)),
      );
      return { isNew: isNew === 1, size, count, first: Number(first) };
    });
  }

  async profile(id: string, field: string, now: number): Promise<ProfileSnapshot> {
    const seed = this.seed(id, field);
    const local = this.local.profileSync(id, field, now);
    return this.shared('profile', local, async () => {
      const out = await this.redis.gwProfile(this.key(field, id), seed, String(now), this.ttl);
      return profileSnapshot(JSON.parse(out) as number[]);
    });
  }

  async claim(id: string, field: string, now: number, cooldownMs: number): Promise<boolean> {
    const local = this.local.claimSync(id, field, now, cooldownMs);
    return this.shared('claim', local, async () => {
      const ok = await this.redis.gwClaim(this.key(field, id), String(now), String(cooldownMs), String(Math.max(1000, Math.round(cooldownMs))));
      return ok === 1;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.metrics.stateBackend.add(-1, { backend: this.mode });
    this.redis.disconnect();
    await this.local.close();
  }
}
