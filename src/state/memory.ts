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
  ProfileSnapshot,
  SampleOptions,
  SampleSnapshot,
  SeriesOptions,
  SeriesSnapshot,
  StateStore,
  SyncStateOps,
} from './types.js';

// In-process state, bounded by entries and bytes. One cache entry per
// identity holds all of its records, so a request costs one lookup per
// identity per detector on a key string the exchange already has (its hash
// is computed once), and an identity costs one cache slot. The synchronous
// methods are also what the Redis store mirrors every write into, so that
// its local fallback is warm the moment Redis goes away.

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

export class MemoryStore implements StateStore {
  private readonly cache: LRUCache<string, Records>;
  readonly sync: SyncStateOps = {
    series: (id, field, values, now, opts) => this.seriesSync(id, field, values, now, opts),
    sample: (id, field, value, opts) => this.sampleSync(id, field, value, opts),
    distinct: (id, field, member, now, opts) => this.distinctSync(id, field, member, now, opts),
    profile: (id, field, now) => this.profileSync(id, field, now),
    claim: (id, field, now, cooldownMs) => this.claimSync(id, field, now, cooldownMs),
  };

  constructor(opts: MemoryStoreOptions) {
    this.cache = new LRUCache<string, Records>({
      max: opts.maxEntries,
      maxSize: opts.maxBytes,
      sizeCalculation: entrySize,
    });
  }

  backend(): BackendName {
    return 'memory';
  }

  /** Identities held. */
  get size(): number {
    return this.cache.size;
  }

  /** The record as it is now (undefined when absent); used to seed Redis. */
  peek(id: string, field: string): readonly number[] | undefined {
    return this.cache.peek(id)?.[field];
  }

  /**
   * An exchange's detectors ask for the same few identities about twenty
   * times: the last few found are remembered so that only the first asks the
   * cache. They are the most recently used entries already, so skipping the
   * cache's recency update changes nothing; any write to the cache may evict,
   * and forgets them.
   */
  private readonly recentIds: string[] = [];
  private readonly recentRecords: Records[] = [];
  private recentNext = 0;

  private recordsOf(id: string): Records | undefined {
    const i = this.recentIds.indexOf(id);
    if (i >= 0) return this.recentRecords[i];
    const records = this.cache.get(id);
    if (records !== undefined) {
      this.recentIds[this.recentNext] = id;
      this.recentRecords[this.recentNext] = records;
      this.recentNext = (this.recentNext + 1) % RECENT_IDS;
    }
    return records;
  }

  private forgetRecent(): void {
    this.recentIds.length = 0;
    this.recentRecords.length = 0;
    this.recentNext = 0;
  }

  private store(id: string, records: Records): void {
    this.forgetRecent();
    this.cache.set(id, records);
  }

  /** The identity's record `field`, made by `make` (and accounted for) when absent. */
  private record(id: string, field: string, make: () => number[]): number[] {
    let records = this.recordsOf(id);
    let rec = records?.[field];
    if (rec !== undefined) return rec;
    rec = make();
    if (records === undefined) records = {};
    records[field] = rec;
    this.store(id, records);
    return rec;
  }

  /** Re-accounts an identity whose record changed size. */
  private resized(id: string): void {
    const records = this.cache.peek(id);
    if (records !== undefined) this.store(id, records);
  }

  seriesSync(id: string, field: string, values: readonly number[], now: number, opts: SeriesOptions): SeriesSnapshot {
    const rec = this.record(id, field, () => newSeries(values.length, now, opts.bucketMs));
    updateSeries(rec, values, now, opts);
    return seriesSnapshot(rec, now, opts.bucketMs);
  }

  sampleSync(id: string, field: string, value: number, opts: SampleOptions): SampleSnapshot {
    const rec = this.record(id, field, () => [0, 0, 0]);
    const before = sampleSnapshot(rec);
    updateSample(rec, value, opts.alpha);
    return before;
  }

  distinctSync(id: string, field: string, member: string, now: number, opts: DistinctOptions): DistinctSnapshot {
    const rec = this.record(id, field, () => newDistinct(now));
    const length = rec.length;
    const snap = updateDistinct(rec, memberHash(member), now, opts);
    if (rec.length !== length) this.resized(id);
    return snap;
  }

  profileSync(id: string, field: string, now: number): ProfileSnapshot {
    const rec = this.record(id, field, () => newProfile(now));
    updateProfile(rec, now);
    return profileSnapshot(rec);
  }

  claimSync(id: string, field: string, now: number, cooldownMs: number): boolean {
    const rec = this.record(id, field, () => [-Infinity]);
    if (now < rec[0]!) return false;
    rec[0] = now + cooldownMs;
    return true;
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
    this.forgetRecent();
    this.cache.clear();
  }
}
