// The state store anomaly detectors keep their baselines in. Every operation
// is one atomic read-modify-write of one small record, so the same logic runs
// in process memory and, shared between sidecars, in Redis.

/** Per-bucket series: `values` are added to the current time bucket; finished buckets fold into decayed stats. */
export interface SeriesOptions {
  /** Bucket width, e.g. 60_000 for per-minute rates. */
  readonly bucketMs: number;
  /** EWMA weight of one bucket (1 / effective window in buckets). */
  readonly alpha: number;
  /** Per-bucket decay factor of the remembered peak. */
  readonly peakDecay: number;
}

/** A view of the record as it is now: read it before the next operation on the same key. */
export interface SeriesSnapshot {
  /** Time the identity was first seen by this series (ms). */
  readonly first: number;
  /** Effective number of finished buckets behind the baseline. */
  readonly weight: number;
  /** Sliding-window estimate of the last bucket's worth of value `i`. */
  window(i: number): number;
  /** Baseline mean and standard deviation of value `i` per finished bucket. */
  mean(i: number): number;
  std(i: number): number;
  /** Decayed maximum of finished buckets. */
  peak(i: number): number;
}

export interface SampleOptions {
  /** Smallest EWMA weight; early samples use 1/n so the first ones form a plain average. */
  readonly alpha: number;
}

/** Distribution of a per-event value, as it was before the current event. */
export interface SampleSnapshot {
  readonly n: number;
  readonly mean: number;
  readonly std: number;
}

export interface DistinctOptions {
  /** Members not seen for this long are forgotten. */
  readonly windowMs: number;
  /** At most this many members are kept; the least recently seen go first. */
  readonly maxMembers: number;
}

export interface DistinctSnapshot {
  /** The member was not among the remembered ones. */
  readonly isNew: boolean;
  /** Members remembered, the current one included. */
  readonly size: number;
  /** Adds ever made to this set (the current one included). */
  readonly count: number;
  readonly first: number;
}

export const HOURS_PER_WEEK = 168;

export interface ProfileSnapshot {
  readonly first: number;
  /** Events so far in the current hour. */
  readonly currentCount: number;
  readonly currentHourOfWeek: number;
  /** Active-hour count of one hour of the week (Monday 00:00 UTC = 0), finished hours only. */
  hour(slot: number): number;
  /** Active hours over the whole profile. */
  activeHours(): number;
}

export type BackendName = 'memory' | 'redis';

// Records are addressed by an identity (`id`, e.g. a key fingerprint or a
// user name) and a field naming the record within it (e.g. `rq.key`): all of
// an identity's records live together, one cache entry per identity.

/** The same operations answered synchronously, one identity at a time: what the in-memory store offers. */
export interface SyncStateOps {
  /** The records of one identity, to run many operations on it for the price of one lookup. */
  identity(id: string): IdentityRecordOps;
}

/** The synchronous operations on the records of one identity. */
export interface IdentityRecordOps {
  readonly id: string;
  series(field: string, values: readonly number[], now: number, opts: SeriesOptions): SeriesSnapshot;
  sample(field: string, value: number, opts: SampleOptions): SampleSnapshot;
  distinct(field: string, member: string, now: number, opts: DistinctOptions): DistinctSnapshot;
  profile(field: string, now: number): ProfileSnapshot;
  /** True when the caller may act now; then false for `cooldownMs` (one finding per incident). */
  claim(field: string, now: number, cooldownMs: number): boolean;
}

export interface StateStore {
  /**
   * Present when every operation completes at once (the in-memory store):
   * detectors then skip promises altogether on their path.
   */
  readonly sync?: SyncStateOps;
  /** The backend answering right now (redis falls back to memory while Redis is unreachable). */
  backend(): BackendName;
  series(id: string, field: string, values: readonly number[], now: number, opts: SeriesOptions): Promise<SeriesSnapshot>;
  sample(id: string, field: string, value: number, opts: SampleOptions): Promise<SampleSnapshot>;
  distinct(id: string, field: string, member: string, now: number, opts: DistinctOptions): Promise<DistinctSnapshot>;
  profile(id: string, field: string, now: number): Promise<ProfileSnapshot>;
  claim(id: string, field: string, now: number, cooldownMs: number): Promise<boolean>;
  close(): Promise<void>;
}
