import {
  HOURS_PER_WEEK,
  type DistinctOptions,
  type DistinctSnapshot,
  type ProfileSnapshot,
  type SampleSnapshot,
  type SeriesOptions,
  type SeriesSnapshot,
} from './types.js';

// Records are flat number arrays: compact in memory (one double array each)
// and encoded as JSON in Redis, where src/state/redis-scripts.ts applies the
// very same arithmetic in Lua. Keep the two in step (test/state checks it).

// Series: [first, bucket, weight, then per value: cur, prev, s1, s2, peak]
export const SERIES_HEAD = 3;
export const SERIES_STRIDE = 5;

export function newSeries(nValues: number, now: number, bucketMs: number): number[] {
  const rec = new Array<number>(SERIES_HEAD + SERIES_STRIDE * nValues).fill(0);
  rec[0] = now;
  rec[1] = Math.floor(now / bucketMs);
  return rec;
}

export function updateSeries(rec: number[], values: readonly number[], now: number, opts: SeriesOptions): void {
  const b = Math.floor(now / opts.bucketMs);
  const gap = b - rec[1]!;
  const n = values.length;
  if (gap > 0) {
    const d = 1 - opts.alpha;
    rec[2] = rec[2]! * d + 1;
    for (let i = 0; i < n; i++) {
      const o = SERIES_HEAD + SERIES_STRIDE * i;
      const c = rec[o]!;
      rec[o + 2] = rec[o + 2]! * d + c;
      rec[o + 3] = rec[o + 3]! * d + c * c;
      // The busiest minute takes a bucket once it has left the sliding window
      // (here the previous one), so a burst cut by a bucket boundary is never
      // judged against its own first part.
      rec[o + 4] = Math.max(rec[o + 4]! * opts.peakDecay, rec[o + 1]!);
    }
    if (gap > 1) {
      // gap-1 empty buckets, folded in closed form.
      const z = gap - 1;
      const f = Math.pow(d, z);
      // The completed bucket leaves the window one bucket later.
      const pf = Math.pow(opts.peakDecay, z - 1);
      rec[2] = rec[2]! * f + (1 - f) / opts.alpha;
      for (let i = 0; i < n; i++) {
        const o = SERIES_HEAD + SERIES_STRIDE * i;
        rec[o + 1] = 0;
        rec[o + 2] = rec[o + 2]! * f;
        rec[o + 3] = rec[o + 3]! * f;
        rec[o + 4] = Math.max(rec[o + 4]! * opts.peakDecay, rec[o]!) * pf;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const o = SERIES_HEAD + SERIES_STRIDE * i;
        rec[o + 1] = rec[o]!;
      }
    }
    for (let i = 0; i < n; i++) rec[SERIES_HEAD + SERIES_STRIDE * i] = 0;
    rec[1] = b;
  }
  for (let i = 0; i < n; i++) {
    const o = SERIES_HEAD + SERIES_STRIDE * i;
    rec[o] = rec[o]! + values[i]!;
  }
}

/** A view of a series record: nothing is computed until asked for. */
class SeriesView implements SeriesSnapshot {
  readonly first: number;
  readonly weight: number;
  constructor(
    private readonly rec: readonly number[],
    private readonly prevShare: number,
  ) {
    this.first = rec[0]!;
    this.weight = rec[2]!;
  }
  window(i: number): number {
    const o = SERIES_HEAD + SERIES_STRIDE * i;
    return this.rec[o]! + this.rec[o + 1]! * this.prevShare;
  }
  mean(i: number): number {
    return this.weight > 0 ? this.rec[SERIES_HEAD + SERIES_STRIDE * i + 2]! / this.weight : 0;
  }
  std(i: number): number {
    if (this.weight <= 0) return 0;
    const m = this.mean(i);
    return Math.sqrt(Math.max(0, this.rec[SERIES_HEAD + SERIES_STRIDE * i + 3]! / this.weight - m * m));
  }
  peak(i: number): number {
    return this.rec[SERIES_HEAD + SERIES_STRIDE * i + 4]!;
  }
}

export function seriesSnapshot(rec: readonly number[], now: number, bucketMs: number): SeriesSnapshot {
  // Sliding window: the current bucket plus the unexpired share of the previous one.
  const inCurrent = Math.floor(now / bucketMs) === rec[1];
  return new SeriesView(rec, inCurrent ? 1 - (now - rec[1]! * bucketMs) / bucketMs : 1);
}

// Sample: [n, mean, variance] of a per-event value (EWMA, 1/n weights at first).
export function updateSample(rec: number[], x: number, alphaMin: number): void {
  const a = Math.max(1 / (rec[0]! + 1), alphaMin);
  const diff = x - rec[1]!;
  const incr = a * diff;
  rec[1] = rec[1]! + incr;
  rec[2] = (1 - a) * (rec[2]! + diff * incr);
  rec[0] = rec[0]! + 1;
}

export function sampleSnapshot(rec: readonly number[]): SampleSnapshot {
  return { n: rec[0]!, mean: rec[1]!, std: Math.sqrt(Math.max(0, rec[2]!)) };
}

// Profile: [first, currentHour, currentCount, w0 … w13]: 168 four-bit
// counters, twelve to a double (48 bits, exact). An hour that saw traffic
// adds one to its hour-of-week slot when it ends; at 15 every slot is halved,
// so old habits fade.
export const PROFILE_HEAD = 3;
const SLOTS_PER_WORD = 12;
const PROFILE_WORDS = HOURS_PER_WEEK / SLOTS_PER_WORD;
const SLOT_MAX = 15;
const HOUR_MS = 3_600_000;

export function hourOfWeek(hourIndex: number): number {
  const day = Math.floor(hourIndex / 24);
  return ((day + 3) % 7) * 24 + (hourIndex % 24); // 1970-01-01 was a Thursday
}

export function newProfile(now: number): number[] {
  const rec = new Array<number>(PROFILE_HEAD + PROFILE_WORDS).fill(0);
  rec[0] = now;
  rec[1] = Math.floor(now / HOUR_MS);
  return rec;
}

function slotCount(rec: readonly number[], slot: number): number {
  const word = rec[PROFILE_HEAD + Math.floor(slot / SLOTS_PER_WORD)]!;
  return Math.floor(word / Math.pow(16, slot % SLOTS_PER_WORD)) % 16;
}

export function updateProfile(rec: number[], now: number): void {
  const h = Math.floor(now / HOUR_MS);
  if (h > rec[1]!) {
    if (rec[2]! > 0) {
      const slot = hourOfWeek(rec[1]!);
      const w = PROFILE_HEAD + Math.floor(slot / SLOTS_PER_WORD);
      rec[w] = rec[w]! + Math.pow(16, slot % SLOTS_PER_WORD);
      if (slotCount(rec, slot) >= SLOT_MAX) {
        for (let i = PROFILE_HEAD; i < rec.length; i++) {
          let halved = 0;
          for (let j = 0; j < SLOTS_PER_WORD; j++) {
            const p = Math.pow(16, j);
            halved += Math.floor((Math.floor(rec[i]! / p) % 16) / 2) * p;
          }
          rec[i] = halved;
        }
      }
    }
    rec[1] = h;
    rec[2] = 0;
  }
  rec[2] = rec[2]! + 1;
}

export function profileSnapshot(rec: readonly number[]): ProfileSnapshot {
  return {
    first: rec[0]!,
    currentCount: rec[2]!,
    currentHourOfWeek: hourOfWeek(rec[1]!),
    hour: (slot) => slotCount(rec, slot),
    activeHours: () => {
      let n = 0;
      for (let slot = 0; slot < HOURS_PER_WEEK; slot++) n += slotCount(rec, slot);
      return n;
    },
  };
}

// Distinct: [first, count, m0, t0, m1, t1, …] — members are 32-bit hashes
// (see memberHash), never the IP, user agent or model name itself.
export const DISTINCT_HEAD = 2;

export function newDistinct(now: number): number[] {
  return [now, 0];
}

export function updateDistinct(rec: number[], member: number, now: number, opts: DistinctOptions): DistinctSnapshot {
  const cutoff = now - opts.windowMs;
  // Drop expired members in place.
  let w = DISTINCT_HEAD;
  for (let r = DISTINCT_HEAD; r < rec.length; r += 2) {
    if (rec[r + 1]! >= cutoff) {
      rec[w] = rec[r]!;
      rec[w + 1] = rec[r + 1]!;
      w += 2;
    }
  }
  if (w !== rec.length) rec.length = w;
  let isNew = true;
  for (let r = DISTINCT_HEAD; r < rec.length; r += 2) {
    if (rec[r] === member) {
      isNew = false;
      rec[r + 1] = Math.max(rec[r + 1]!, now);
      break;
    }
  }
  if (isNew) {
    rec.push(member, now);
    while ((rec.length - DISTINCT_HEAD) / 2 > opts.maxMembers) {
      let oldest = DISTINCT_HEAD;
      for (let r = DISTINCT_HEAD + 2; r < rec.length; r += 2) if (rec[r + 1]! < rec[oldest + 1]!) oldest = r;
      rec.splice(oldest, 2);
    }
  }
  rec[1] = rec[1]! + 1;
  return { isNew, size: (rec.length - DISTINCT_HEAD) / 2, count: rec[1]!, first: rec[0]! };
}

/** FNV-1a, 32 bits: sets remember members by this hash only. */
export function memberHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
