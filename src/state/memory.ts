import { LRUCache } from 'lru-cache';
import {
  memberHash,
  newDistinct,
  newProfile,
  newSeries,
  profileSnapshot,
  sampleSnapshot,
  seriesSnapshot,
  updateDistinct,
  updateProfile,
  updateSample,
  updateSeries,
} from './records.js';
import type {
  BackendName,
  DistinctOptions,
  DistinctSnapshot,
  IdentityRecordOps,
  ProfileSnapshot,
  SampleOptions,
  SampleSnapshot,
  SeriesOptions,
  SeriesSnapshot,
  StateStore,
  SyncStateOps,
} from './types.js';

// In-process state, bounded by entries and bytes. One cache entry per
// identity holds all of its records, so an identity costs one cache slot and
// an exchange one lookup per identity: its records are looked up once and
// handed out as an `IdentityRecords` for every operation on it. The
// synchronous methods are also what the Redis store mirrors every write into,
// so that its local fallback is warm the moment Redis goes away.

export interface MemoryStoreOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

type Records = Record<string, number[]>;

/** Identities of one exchange: key, user, team, client IP. */
const RECENT_IDS = 4;

// Approximate V8 sizes: the holder object and cache slot, each field, each record's double array.
const ENTRY_BYTES = 120;
const FIELD_BYTES = 16;
const RECORD_BYTES = 48;

function entrySize(records: Records, id: string): number {
  let n = ENTRY_BYTES + id.length;
  for (const field in records) n += FIELD_BYTES + RECORD_BYTES + 8 * records[field]!.length;
  return n;
}

/** The identities' cache, counting its writes: any write may evict (or drop) entries. */
class IdentityCache {
  writes = 0;
  readonly lru: LRUCache<string, Records>;
  private readonly maxEntries: number;

  constructor(opts: MemoryStoreOptions) {
    // Bounded by bytes here and by count in set(): a `max` would make
    // lru-cache allocate slots for every entry up front (megabytes at idle).
    this.lru = new LRUCache<string, Records>({ maxSize: opts.maxBytes, sizeCalculation: entrySize });
    this.maxEntries = opts.maxEntries;
  }

  set(id: string, records: Records): void {
    this.writes++;
    this.lru.set(id, records);
    if (this.lru.size > this.maxEntries) this.lru.pop();
  }

  clear(): void {
    this.writes++;
    this.lru.clear();
  }
}

/**
 * One identity's records, found in the cache once and then used directly
 * until the cache is next written to: a write may have evicted them, so the
 * first operation after it looks them up again (which also marks them used).
 */
class IdentityRecords implements IdentityRecordOps {
  private records: Records | undefined;
  private seenWrites = -1;

  constructor(
    private readonly cache: IdentityCache,
    readonly id: string,
  ) {}

  private find(field: string): number[] | undefined {
    if (this.seenWrites !== this.cache.writes) {
      this.records = this.cache.lru.get(this.id);
      this.seenWrites = this.cache.writes;
    }
    return this.records?.[field];
  }

  /** Adds a new record (and re-accounts the identity's size). */
  private add(field: string, rec: number[]): number[] {
    const records = this.records ?? {};
    records[field] = rec;
    this.cache.set(this.id, records);
    return rec;
  }

  /** Re-accounts the identity after a record changed size. */
  private resized(): void {
    const records = this.cache.lru.peek(this.id);
    if (records !== undefined) this.cache.set(this.id, records);
  }

  series(field: string, values: readonly number[], now: number, opts: SeriesOptions): SeriesSnapshot {
    const rec = this.find(field) ?? this.add(field, newSeries(values.length, now, opts.bucketMs));
    updateSeries(rec, values, now, opts);
    return seriesSnapshot(rec, now, opts.bucketMs);
  }

  sample(field: string, value: number, opts: SampleOptions): SampleSnapshot {
    const rec = this.find(field) ?? this.add(field, [0, 0, 0]);
    const before = sampleSnapshot(rec);
    updateSample(rec, value, opts.alpha);
    return before;
  }

  distinct(field: string, member: string, now: number, opts: DistinctOptions): DistinctSnapshot {
    const rec = this.find(field) ?? this.add(field, newDistinct(now));
    const length = rec.length;
    const snap = updateDistinct(rec, memberHash(member), now, opts);
    if (rec.length !== length) this.resized();
    return snap;
  }

  profile(field: string, now: number): ProfileSnapshot {
    const rec = this.find(field) ?? this.add(field, newProfile(now));
    updateProfile(rec, now);
    return profileSnapshot(rec);
  }

  claim(field: string, now: number, cooldownMs: number): boolean {
    const rec = this.find(field) ?? this.add(field, [-Infinity]);
    if (now < rec[0]!) return false;
    rec[0] = now + cooldownMs;
    return true;
  }
}

export class MemoryStore implements StateStore {
  private readonly cache: IdentityCache;
  readonly sync: SyncStateOps = { identity: (id) => new IdentityRecords(this.cache, id) };

  constructor(opts: MemoryStoreOptions) {
    this.cache = new IdentityCache(opts);
  }

  backend(): BackendName {
    return 'memory';
  }

  /** Identities held. */
  get size(): number {
    return this.cache.lru.size;
  }

  /** The record as it is now (undefined when absent); used to seed Redis. */
  peek(id: string, field: string): readonly number[] | undefined {
    return this.cache.lru.peek(id)?.[field];
  }

  /** The last few identities asked for by id (those of the exchange in progress). */
  private readonly recent: IdentityRecords[] = [];
  private recentNext = 0;

  private identity(id: string): IdentityRecords {
    for (const r of this.recent) if (r.id === id) return r;
    const r = new IdentityRecords(this.cache, id);
    this.recent[this.recentNext] = r;
    this.recentNext = (this.recentNext + 1) % RECENT_IDS;
    return r;
  }

  seriesSync(id: string, field: string, values: readonly number[], now: number, opts: SeriesOptions): SeriesSnapshot {
    return this.identity(id).series(field, values, now, opts);
  }

  sampleSync(id: string, field: string, value: number, opts: SampleOptions): SampleSnapshot {
    return this.identity(id).sample(field, value, opts);
  }

  distinctSync(id: string, field: string, member: string, now: number, opts: DistinctOptions): DistinctSnapshot {
    return this.identity(id).distinct(field, member, now, opts);
  }

  profileSync(id: string, field: string, now: number): ProfileSnapshot {
    return this.identity(id).profile(field, now);
  }

  claimSync(id: string, field: string, now: number, cooldownMs: number): boolean {
    return this.identity(id).claim(field, now, cooldownMs);
  }

  async series(id: string, field: string, values: readonly number[], now: number, opts: SeriesOptions): Promise<SeriesSnapshot> {
    return this.seriesSync(id, field, values, now, opts);
  }

  async sample(id: string, field: string, value: number, opts: SampleOptions): Promise<SampleSnapshot> {
    return this.sampleSync(id, field, value, opts);
  }

  async distinct(id: string, field: string, member: string, now: number, opts: DistinctOptions): Promise<DistinctSnapshot> {
    return this.distinctSync(id, field, member, now, opts);
  }

  async profile(id: string, field: string, now: number): Promise<ProfileSnapshot> {
    return this.profileSync(id, field, now);
  }

  async claim(id: string, field: string, now: number, cooldownMs: number): Promise<boolean> {
    return this.claimSync(id, field, now, cooldownMs);
  }

  async close(): Promise<void> {
    this.recent.length = 0;
    this.cache.clear();
  }
}
