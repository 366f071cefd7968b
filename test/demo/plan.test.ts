import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTimeLapse, onTimeLapse } from '../../src/demo/clock.js';
import { makeExchange } from '../../src/exchange.js';
import { DEMO_ANOMALY_OVERRIDES, demoConfig } from '../../src/demo/config.js';
import { createRandom } from '../../src/demo/random.js';
import { MIN_RUN_AFTER_CATCH_UP_MS, planTraffic } from '../../src/demo/traffic.js';
import { harness } from '../anomaly/harness.js';

// The time-lapse clock and the traffic plan: deterministic by seed, every
// incident inside the run, and the shortened warm-ups accepted by the rules.

const START = Date.UTC(2026, 0, 5, 12, 0, 0);

test('the time-lapse clock starts in the past, runs fast, then joins real time', () => {
  let real = START;
  const clock = createTimeLapse({ historyMs: 30 * 60_000, catchUpMs: 8_000, start: START, realNow: () => real });
  assert.equal(clock.now(), START - 30 * 60_000);
  real = START + 4_000;
  assert.equal(clock.speed, 226);
  assert.equal(clock.now(), START - 30 * 60_000 + 4_000 * 226);
  real = START + 8_000;
  assert.equal(clock.now(), START + 8_000);
  real = START + 20_000;
  assert.equal(clock.now(), START + 20_000);
  for (const sim of [START - 30 * 60_000, START - 60_000, START + 8_000, START + 9_500]) {
    real = clock.realTimeOf(sim);
    assert.ok(Math.abs(clock.now() - sim) < 1, `realTimeOf inverts now at ${sim}`);
  }
});

test('detectors on the time-lapse judge an exchange at the simulated time it arrived, not when inspected', () => {
  const clock = createTimeLapse({ historyMs: 30 * 60_000, catchUpMs: 8_000, start: START, realNow: () => START + 60_000 });
  const seen: number[] = [];
  const detector = onTimeLapse({ id: 'd', category: 'anomaly', detect: (_ex, ctx) => (seen.push(ctx.now), []) }, () => clock);
  const arrivedAt = START + 4_000;
  detector.detect(makeExchange({ id: 'x', timings: { start: arrivedAt, end: arrivedAt + 5 } }), { now: START + 60_000 });
  assert.deepEqual(seen, [START - 30 * 60_000 + 4_000 * 226]);
});

function plan(seed: number) {
  const clock = createTimeLapse({ historyMs: 20 * 60_000, catchUpMs: 10_000, start: 0 });
  return planTraffic({ random: createRandom(seed), clock, endsAt: 10_000 + MIN_RUN_AFTER_CATCH_UP_MS });
}

test('the same seed plans the same traffic; another seed other keys', () => {
  const a = plan(7);
  const b = plan(7);
  assert.deepEqual(a.requests, b.requests);
  const c = plan(8);
  const auth = (p: ReturnType<typeof plan>) => new Set(p.requests.map((r) => r.headers.authorization ?? r.headers['x-api-key']));
  const shared = [...auth(a)].filter((k) => auth(c).has(k));
  assert.deepEqual(shared, []);
});

test('every incident is planned within the run, with the detectors expected to catch it', () => {
  const p = plan(1);
  assert.deepEqual(p.incidents.map((i) => i.id), ['pasted-key', 'prompt-extraction', 'markdown-image-exfiltration', '401-storm', 'stolen-key']);
  for (const i of p.incidents) {
    assert.ok(i.expects.length > 0);
    const requests = p.requests.filter((r) => r.incident === i.id);
    assert.ok(requests.length > 0, i.id);
    assert.ok(requests.every((r) => r.at >= 10_000 && r.at <= p.endsAt), `${i.id} after the time-lapse`);
  }
  // The stolen key runs at 40× its owner's rate, from an address the owner never used.
  const stolen = p.requests.filter((r) => r.incident === 'stolen-key');
  const owner = p.requests.filter((r) => !r.incident && r.headers.authorization === stolen[0]!.headers.authorization && r.at >= 10_000);
  assert.ok(owner.every((r) => r.headers['x-forwarded-for'] !== stolen[0]!.headers['x-forwarded-for']));
  assert.equal(stolen.length, 60);
  // Every revoked-key request is in the 401 storm.
  assert.ok(p.requests.filter((r) => [...p.revokedKeys].some((k) => r.headers.authorization === `Bearer ${k}`)).every((r) => r.incident === '401-storm'));
});

// The demo runs at real time once caught up, so its incidents start at any
// second of a wall-clock minute: the stolen key's burst must be caught
// wherever a minute boundary cuts it.
test('the stolen key trips the request-rate spike at any start second of the minute', async () => {
  const missed: string[] = [];
  for (const seed of [1, 2, 3]) {
    const p = plan(seed);
    const key = p.requests.find((r) => r.incident === 'stolen-key')!.headers.authorization!;
    const keyTraffic = p.requests.filter((r) => r.headers.authorization === key);
    for (let second = 0; second < 60; second++) {
      const start = START + second * 1000;
      const clock = createTimeLapse({ historyMs: 20 * 60_000, catchUpMs: 10_000, start });
      const h = harness({ overrides: structuredClone(DEMO_ANOMALY_OVERRIDES) });
      let caught = false;
      for (const r of keyTraffic) {
        const identity = { keyFingerprint: key, clientIp: r.headers['x-forwarded-for']!, user: r.headers['x-litellm-user'], team: r.headers['x-litellm-team'], userAgent: r.headers['user-agent'] };
        const findings = await h.send(clock.simTimeOf(start + r.at), { identity });
        if (r.incident === 'stolen-key' && findings.some((f) => f.detector === 'anomaly.request-rate-spike')) caught = true;
      }
      if (!caught) missed.push(`seed ${seed} started at :${String(second).padStart(2, '0')}`);
    }
  }
  assert.deepEqual(missed, [], 'demos that would miss the spike');
});

test('the demo config validates, keeps embedded defaults, and only shortens anomaly warm-ups', () => {
  const c = demoConfig({ upstream: 'http://127.0.0.1:1', listen: '127.0.0.1:0', admin: '127.0.0.1:0', fingerprintKey: 'k' });
  assert.equal(c.state.redisUrl, null);
  assert.equal(c.alerts.sinks.slack.url, null);
  assert.equal(c.alerts.sinks.stdout.enabled, false);
  assert.deepEqual(Object.keys(c.anomaly.overrides).sort(), ['new-network', 'new-user-agent', 'request-rate-spike']);
});
