import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../../src/state/memory.js';
import {
  hourOfWeek,
  newDistinct,
  newSeries,
  seriesSnapshot,
  updateDistinct,
  updateSeries,
} from '../../src/state/records.js';
import type { SeriesOptions } from '../../src/state/types.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5); // a Monday
const opts: SeriesOptions = { bucketMs: MIN, alpha: 0.01, peakDecay: 0.999 };

test('series: folding a gap in closed form equals folding empty buckets one by one', () => {
  const a = newSeries(1, T0, MIN);
  const b = newSeries(1, T0, MIN);
  updateSeries(a, [5], T0, opts);
  updateSeries(b, [5], T0, opts);
  // a jumps 40 minutes at once; b is touched with 0 every minute in between.
  updateSeries(a, [3], T0 + 40 * MIN, opts);
  for (let m = 1; m < 40; m++) updateSeries(b, [0], T0 + m * MIN, opts);
  updateSeries(b, [3], T0 + 40 * MIN, opts);
  const sa = seriesSnapshot(a, T0 + 40 * MIN, MIN);
  const sb = seriesSnapshot(b, T0 + 40 * MIN, MIN);
  assert.ok(Math.abs(sa.weight - sb.weight) < 1e-9, `${sa.weight} vs ${sb.weight}`);
  assert.ok(Math.abs(sa.mean(0) - sb.mean(0)) < 1e-9);
  assert.ok(Math.abs(sa.std(0) - sb.std(0)) < 1e-9);
  assert.ok(Math.abs(sa.peak(0) - sb.peak(0)) < 1e-9);
});

test('series: mean and std follow a steady per-minute rate; the window counts the current minute', () => {
  const rec = newSeries(1, T0, MIN);
  // 4 events a minute for 600 minutes.
  for (let m = 0; m < 600; m++) for (let i = 0; i < 4; i++) updateSeries(rec, [1], T0 + m * MIN + i * 10_000, opts);
  for (let i = 0; i < 30; i++) updateSeries(rec, [1], T0 + 600 * MIN + i * 1000, opts);
  const s = seriesSnapshot(rec, T0 + 600 * MIN + 30_000, MIN);
  assert.ok(Math.abs(s.mean(0) - 4) < 1e-6, `mean ${s.mean(0)}`);
  assert.ok(s.std(0) < 1e-3, `std ${s.std(0)}`);
  // 30 this minute plus half of the previous minute's 4.
  assert.ok(Math.abs(s.window(0) - 32) < 1e-9, `window ${s.window(0)}`);
  assert.equal(s.peak(0), 4);
  assert.equal(s.first, T0);
});

test('distinct: remembers members within the window and at most maxMembers of them', () => {
  const rec = newDistinct(T0);
  const o = { windowMs: 10 * MIN, maxMembers: 3 };
  assert.equal(updateDistinct(rec, 1, T0, o).isNew, true);
  assert.equal(updateDistinct(rec, 1, T0 + MIN, o).isNew, false);
  updateDistinct(rec, 2, T0 + 2 * MIN, o);
  updateDistinct(rec, 3, T0 + 3 * MIN, o);
  const s = updateDistinct(rec, 4, T0 + 4 * MIN, o);
  assert.equal(s.size, 3); // member 1 (oldest) went
  assert.equal(updateDistinct(rec, 1, T0 + 5 * MIN, o).isNew, true);
  // 20 minutes later only the member just added is left.
  const later = updateDistinct(rec, 9, T0 + 25 * MIN, o);
  assert.equal(later.size, 1);
  assert.equal(later.count, 7);
  assert.equal(later.first, T0);
});

test('hourOfWeek: Monday 00:00 UTC is slot 0, Sunday 23:00 is 167', () => {
  assert.equal(hourOfWeek(Math.floor(T0 / 3_600_000)), 0);
  assert.equal(hourOfWeek(Math.floor((T0 + 7 * 86_400_000 - 1) / 3_600_000)), 167);
  assert.equal(hourOfWeek(Math.floor((T0 + 2 * 86_400_000 + 5 * 3_600_000) / 3_600_000)), 53);
});

test('memory store: profile adds an active hour to its slot only when the hour ends', async () => {
  const store = new MemoryStore({ maxEntries: 100, maxBytes: 1 << 20 });
  for (let i = 0; i < 5; i++) await store.profile('p', 'f', T0 + 3 * 3_600_000 + i * 1000);
  let p = await store.profile('p', 'f', T0 + 3 * 3_600_000 + 10_000);
  assert.equal(p.currentCount, 6);
  assert.equal(p.hour(3), 0);
  p = await store.profile('p', 'f', T0 + 4 * 3_600_000);
  assert.equal(p.hour(3), 1);
  assert.equal(p.activeHours(), 1);
  assert.equal(p.currentCount, 1);
  assert.equal(p.currentHourOfWeek, 4);
});

test('memory store: sample returns the distribution before the new value', async () => {
  const store = new MemoryStore({ maxEntries: 100, maxBytes: 1 << 20 });
  for (const x of [2, 4, 6]) await store.sample('s', 'f', x, { alpha: 0.001 });
  const before = await store.sample('s', 'f', 100, { alpha: 0.001 });
  assert.equal(before.n, 3);
  assert.ok(Math.abs(before.mean - 4) < 1e-9);
  assert.ok(Math.abs(before.std - Math.sqrt(8 / 3)) < 1e-9, `std ${before.std}`);
});

test('memory store: claim holds for the cooldown on the injected clock', async () => {
  const store = new MemoryStore({ maxEntries: 100, maxBytes: 1 << 20 });
  assert.equal(await store.claim('c', 'f', T0, MIN), true);
  assert.equal(await store.claim('c', 'f', T0 + MIN - 1, MIN), false);
  assert.equal(await store.claim('c', 'f', T0 + MIN, MIN), true);
});

test('memory store: bounded by entries and by bytes', async () => {
  const byEntries = new MemoryStore({ maxEntries: 50, maxBytes: 1 << 30 });
  const byBytes = new MemoryStore({ maxEntries: 1_000_000, maxBytes: 20_000 });
  for (let i = 0; i < 1000; i++) {
    await byEntries.series(`k${i}`, 'f', [1], T0, opts);
    await byBytes.profile(`k${i}`, 'f', T0);
  }
  assert.equal(byEntries.size, 50);
  // An identity holding a profile is accounted at over 200 bytes: 20 KB holds at most 100.
  assert.ok(byBytes.size > 0 && byBytes.size <= 100, `size ${byBytes.size}`);
});

test('profile: four-bit slots saturate at 15 weeks, then every slot is halved', async () => {
  const store = new MemoryStore({ maxEntries: 100, maxBytes: 1 << 20 });
  const WEEK = 7 * 86_400_000;
  const H = 3_600_000;
  let p;
  for (let w = 0; w < 15; w++) {
    await store.profile('p', 'f', T0 + w * WEEK + 3 * H); // Monday 03:00
    if (w < 5) await store.profile('p', 'f', T0 + w * WEEK + 30 * H); // Tuesday 06:00
    p = await store.profile('p', 'f', T0 + w * WEEK + 40 * H);
    if (w === 13) assert.equal(p.hour(3), 14);
  }
  assert.equal(p!.hour(3), 7); // reached 15, halved
  assert.equal(p!.hour(30), 2); // 5, halved
  assert.equal(p!.hour(40 - 24), 0);
});
