import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runSoak, slope } from '../../bench/soak.js';

// The CI cut of bench/soak (the 30-minute runs are in bench/RESULTS.md):
// mixed JSON, SSE and WebSocket load with alerts firing against a spawned
// sidecar: 20 s of warm-up, then one measured minute with RSS sampled every
// 5 s. No request may fail. A minute cannot prove a slow leak flat (RSS
// still moves by ±15 MB while the heap settles; the 30-minute run is the
// proof), so the CI bound only catches gross leaks.

const CI_MAX_SLOPE_MB_PER_MIN = 20;

test('slope is the least-squares slope', () => {
  assert.equal(slope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }]), 2);
  assert.equal(slope([{ x: 0, y: 4 }, { x: 1, y: 4 }, { x: 5, y: 4 }]), 0);
  assert.ok(Math.abs(slope([{ x: 0, y: 0 }, { x: 1, y: 2 }, { x: 2, y: 1 }]) - 0.5) < 1e-9);
});

test('one minute of mixed load: no request fails, alerts fire, RSS does not climb', { timeout: 150_000 }, async (t) => {
  const result = await runSoak({ minutes: 1, sampleSeconds: 5, warmupMinutes: 1 / 3, maxSlopeMbPerMin: CI_MAX_SLOPE_MB_PER_MIN, rate: 60 });
  t.diagnostic(formatReport(result).replace(/\n\| [\d.]+ \| [\d.]+ \|/g, '').replace(/\n+/g, ' / '));
  for (const [kind, c] of Object.entries(result.counts)) {
    assert.equal(c.failed, 0, `${kind} requests failed: ${result.failures.join('; ')}`);
    assert.ok(c.ok > 0, `some ${kind} traffic ran`);
  }
  assert.ok(result.alertLines > 0, 'alerts fired');
  assert.ok(result.slopeMbPerMin < CI_MAX_SLOPE_MB_PER_MIN, `RSS slope ${result.slopeMbPerMin.toFixed(2)} MB/min`);
  assert.deepEqual(result.failures, []);
  assert.equal(result.passed, true);
});
