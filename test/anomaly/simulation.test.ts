import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, median, runSimulation } from '../../bench/anomaly-sim.js';

// A quick run of the traffic simulator (bench/anomaly-sim.ts): three weeks of
// 16 keys with one incident of each kind. Every incident must be found, the
// median time to detect must stay within two simulated minutes, and normal
// traffic must raise at most one false alarm per 1,000 identity-days.

test('simulated traffic: every incident detected, fast, with no more than 1 false alarm per 1,000 identity-days', async () => {
  const report = await runSimulation({ days: 21, keys: 16, seed: 1 });
  const text = formatReport(report);
  assert.equal(report.incidents.length, 13, text);
  for (const i of report.incidents) assert.ok(i.detected, `${i.expected} not detected\n${text}`);
  assert.ok(median(report.incidents.map((i) => i.timeToDetectMs!)) <= 120_000, text);
  assert.ok((1000 * report.falseAlarms.length) / report.identityDays <= 1, text);
  assert.ok(report.identityDays > 500, text);
});
