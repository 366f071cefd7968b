import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAY, FP, harness, HOUR, ids, MIN, steady, T0 } from './harness.js';

// Each anomaly detector on an injected clock: quiet on the identity's normal
// traffic, one finding (not one per request) when the incident comes, and a
// summary that explains itself.

test('request-rate spike: quiet at the usual rate, one explained finding per key/user/team on a burst', async () => {
  const h = harness({ only: ['anomaly.request-rate-spike'] });
  assert.deepEqual(await steady(h, T0, 4 * 24 * 60, 3), []);
  const burst = await steady(h, T0 + 4 * DAY, 3, 45);
  assert.equal(burst.length, 3, burst.map((f) => f.summary).join('\n'));
  const key = burst.find((f) => f.location?.path === 'identity.key_fingerprint')!;
  assert.equal(key.fingerprint, FP);
  assert.equal(key.category, 'anomaly');
  assert.match(key.summary!, /^\d+(\.\d)? req\/min for key fp:00000000000000aa against a baseline of 3 ± 0 req\/min over the last 4 days/);
});

test('request-rate spike: a new identity is in warm-up, a bursty key is judged against its bursts', async () => {
  const h = harness({ only: ['anomaly.request-rate-spike'] });
  // Warm-up: a key seen for two days only is not judged yet (new keys ramp up).
  await steady(h, T0, 2 * 24 * 60, 1);
  assert.deepEqual(await steady(h, T0 + 2 * DAY, 2, 60), []);
  // A nightly batch of 60/min for 30 minutes, night after night.
  const b = harness({ only: ['anomaly.request-rate-spike'] });
  const found = [];
  for (let d = 0; d < 5; d++) found.push(...(await steady(b, T0 + d * DAY + 2 * HOUR, 30, 60)));
  assert.deepEqual(found, []);
});

test('request-rate spike: a burst cut by a minute boundary is not judged against its own first part', async () => {
  const h = harness({ only: ['anomaly.request-rate-spike'] });
  assert.deepEqual(await steady(h, T0, 4 * 24 * 60, 5), []);
  // One request a second for 30 s from :45 of a minute: 15 in that minute, under
  // the 20 the rule needs, and 15 in the next, when the whole burst is in the
  // sliding window. Were the first minute already the busiest one, the burst
  // would have to double it.
  const start = T0 + 4 * DAY + 45_000;
  const found = [];
  for (let s = 0; s < 30; s++) found.push(...(await h.send(start + s * 1000)));
  assert.ok(found.some((f) => f.location?.path === 'identity.key_fingerprint'), 'the burst is caught');
});

test('token-rate and cost spikes use usage and the price table', async () => {
  const h = harness({ only: ['anomaly.token-rate-spike', 'anomaly.cost-spike'] });
  assert.deepEqual(await steady(h, T0, 4 * 24 * 60, 2), []);
  const big = await steady(h, T0 + 4 * DAY, 2, 6, () => ({ model: 'claude-opus-4', usage: { promptTokens: 20_000, completionTokens: 4_000 } }));
  assert.deepEqual(ids(big), ['anomaly.cost-spike', 'anomaly.token-rate-spike']);
  const cost = big.find((f) => f.detector === 'anomaly.cost-spike' && f.location?.path === 'identity.key_fingerprint')!;
  assert.match(cost.summary!, /^\$0\.\d{4}\/min for key .* against a baseline of \$0\.0002 ± \$0\.0000\/min over the last 4 days/);
});

test('error-rate spike: many failures on a key that rarely fails', async () => {
  const h = harness({ only: ['anomaly.error-rate-spike'] });
  assert.deepEqual(await steady(h, T0, 26 * 60, 2, (i) => ({ status: i % 100 === 0 ? 500 : 200 })), []);
  const f = await steady(h, T0 + 26 * HOUR, 2, 20, () => ({ status: 502 }));
  assert.equal(f.length, 1);
  assert.match(f[0]!.summary!, /^\d+(\.\d)?% of \d+ requests failed in the last minute for key .* against a baseline of 1(\.\d+)?%/);
  // 401s are not errors here.
  const g = harness({ only: ['anomaly.error-rate-spike'] });
  await steady(g, T0, 26 * 60, 2);
  assert.deepEqual(await steady(g, T0 + 26 * HOUR, 2, 20, () => ({ status: 401 })), []);
});

test('new network: an established key from a new /24 fires; a new host in a known /24 does not', async () => {
  const h = harness({ only: ['anomaly.new-network'] });
  assert.deepEqual(await steady(h, T0, 4 * 24 * 60, 1 / 10 > 0 ? 1 : 1, (i) => ({ identity: { clientIp: `10.1.2.${i % 5}` } })), []);
  assert.deepEqual(await h.send(T0 + 4 * DAY, { identity: { clientIp: '10.1.2.200' } }), []);
  const f = await h.send(T0 + 4 * DAY + 1000, { identity: { clientIp: '198.51.100.7' } });
  assert.equal(f.length, 1);
  assert.match(f[0]!.summary!, /network 198\.51\.100\.0\/24 for the first time in 4 days of history/);
  // IPv6: the /64 is what counts.
  const v6 = await h.send(T0 + 4 * DAY + 2 * HOUR, { identity: { clientIp: '2001:db8:1:2::5' } });
  assert.match(v6[0]!.summary!, /2001:db8:1:2:0:0:0:0\/64/);
  // A young key is not judged.
  const y = harness({ only: ['anomaly.new-network'] });
  await steady(y, T0, 60, 5);
  assert.deepEqual(await y.send(T0 + HOUR, { identity: { clientIp: '198.51.100.7' } }), []);
});

test('many IPs: one key from a dozen IPs within minutes', async () => {
  const h = harness({ only: ['anomaly.many-ips'] });
  assert.deepEqual(await steady(h, T0, 60, 3, (i) => ({ identity: { clientIp: `10.0.0.${i % 4}` } })), []);
  const f = await steady(h, T0 + HOUR, 3, 10, (i) => ({ identity: { clientIp: `203.0.113.${i}` } }));
  assert.equal(f.length, 1);
  assert.match(f[0]!.summary!, /used from 12 client IPs in the last 5 minutes/);
});

test('new user agent family: a version bump is not new, curl is', async () => {
  const h = harness({ only: ['anomaly.new-user-agent'] });
  await steady(h, T0, 4 * 24 * 60, 1);
  assert.deepEqual(await h.send(T0 + 4 * DAY, { identity: { userAgent: 'OpenAI/Python 1.52.0' } }), []);
  const f = await h.send(T0 + 4 * DAY + 1000, { identity: { userAgent: 'curl/8.5.0' } });
  assert.equal(f.length, 1);
  assert.match(f[0]!.summary!, /user-agent family curl for the first time/);
});

test('auth failures: a burst per client IP (many keys) and per key', async () => {
  const h = harness({ only: ['anomaly.auth-failures-ip', 'anomaly.auth-failures-key'] });
  // A few 401s are normal.
  assert.deepEqual(await steady(h, T0, 10, 1, () => ({ status: 401 })), []);
  const stuffing = await steady(h, T0 + HOUR, 1, 30, (i) => ({ status: 401, identity: { clientIp: '192.0.2.66', keyFingerprint: `fp:${String(i).padStart(16, '0')}` } }));
  assert.deepEqual(ids(stuffing), ['anomaly.auth-failures-ip']);
  assert.match(stuffing[0]!.summary!, /^20 requests answered 401\/403 for client IP 192\.0\.2\.66 in the last 1 minutes/);
  const revoked = await steady(h, T0 + 2 * HOUR, 5, 3, () => ({ status: 403, identity: { clientIp: '10.9.9.9' } }));
  assert.deepEqual(ids(revoked), ['anomaly.auth-failures-key']);
});

test('model enumeration: many distinct models, or many 404s', async () => {
  const h = harness({ only: ['anomaly.model-enumeration'] });
  assert.deepEqual(await steady(h, T0, 60, 5, (i) => ({ model: ['gpt-4o', 'gpt-4o-mini', 'o3'][i % 3]! })), []);
  const f = await steady(h, T0 + HOUR, 1, 10, (i) => ({ model: `model-${i}` }));
  assert.equal(f.filter((x) => x.location?.path === 'identity.key_fingerprint').length, 1);
  assert.match(f[0]!.summary!, /asked for 8 distinct models in the last 10 minutes/);
  const g = harness({ only: ['anomaly.model-enumeration'] });
  const misses = await steady(g, T0, 2, 4, () => ({ model: 'gpt-4o', status: 404 }));
  assert.ok(misses.some((x) => /6 model-not-found \(404\) answers/.test(x.summary!)), misses.map((x) => x.summary).join('\n'));
});

test('unusual hour: a business-hours key at 03:00 on a Sunday, after two weeks of history', async () => {
  const h = harness({ only: ['anomaly.unusual-hour'] });
  const quiet = [];
  for (let d = 0; d < 19; d++) {
    if (d % 7 >= 5) continue; // weekends off
    quiet.push(...(await steady(h, T0 + d * DAY + 9 * HOUR, 8 * 60, 1)));
  }
  assert.deepEqual(quiet, []);
  const sunday = T0 + 20 * DAY + 3 * HOUR;
  const f = await steady(h, sunday, 10, 2);
  assert.equal(f.length, 2); // key and user
  // Back on Monday 09:00 of week 4: a used hour.
  assert.deepEqual(await steady(h, T0 + 21 * DAY + 9 * HOUR, 20, 1), []);
  assert.match(f[0]!.summary!, /^10 requests from key .* on Sunday 03:00–04:00 UTC, an hour of the week it has used in fewer than 2 weeks over 19.8 days of history \(\d+ active hours\)/);
});

test('new key burst: a key that starts at full speed, not one that ramps up, nor every busy key at start-up', async () => {
  const cold = harness({ only: ['anomaly.new-key-burst'] });
  assert.deepEqual(await steady(cold, T0, 2, 90), [], 'at start-up every key is first seen');
  const h = harness({ only: ['anomaly.new-key-burst'] });
  const ramp = [];
  for (let m = 0; m < 120; m++) ramp.push(...(await steady(h, T0 + m * MIN, 1, Math.floor(m / 4) + 1)));
  assert.deepEqual(ramp, []);
  const f = await steady(h, T0 + 2 * HOUR, 2, 90, () => ({ identity: { keyFingerprint: 'fp:00000000000000bb' } }));
  assert.equal(f.length, 1);
  assert.match(f[0]!.summary!, /^key fp:00000000000000bb was first seen 1 minutes ago and already sends 6\d(\.\d)? req\/min/);
});

test('prompt size outlier: a prompt forty times the usual size', async () => {
  const h = harness({ only: ['anomaly.prompt-size-outlier'] });
  const normal = await steady(h, T0, 100, 1, (i) => ({ prompt: [{ path: 'p', role: 'user', text: 'x'.repeat(800 + ((i * 37) % 900)) }] }));
  assert.deepEqual(normal, []);
  const f = await h.send(T0 + 2 * HOUR, { prompt: [{ path: 'p', role: 'user', text: 'y'.repeat(120_000) }] });
  assert.equal(f.length, 1);
  assert.match(f[0]!.summary!, /^prompt of 120,000 characters from key .* against a typical 1,\d{3}/);
});

test('cooldown: one finding per identity per incident, then again after the cooldown', async () => {
  const h = harness({ only: ['anomaly.many-ips'] });
  const first = await steady(h, T0, 5, 20, (i) => ({ identity: { clientIp: `203.0.113.${i % 250}` } }));
  assert.equal(first.length, 1);
  const later = await steady(h, T0 + 2 * HOUR, 2, 20, (i) => ({ identity: { clientIp: `198.51.100.${i % 250}` } }));
  assert.equal(later.length, 1);
});

test('no finding carries anything of a key but its fingerprint', async () => {
  const h = harness();
  const raw = 'sk-proj-THISISNOTAREALKEYBUTLOOKSLIKEONE1234567890';
  await h.send(T0);
  const f = await steady(h, T0 + 2 * HOUR, 2, 90, (i) => ({
    identity: { keyFingerprint: 'fp:00000000000000cc', userAgent: `curl/${i}` },
    requestHeaders: { authorization: `Bearer ${raw}` },
    prompt: [{ path: 'p', role: 'user', text: raw }],
  }));
  assert.ok(f.length > 0);
  assert.ok(!JSON.stringify(f).includes('THISISNOTAREALKEY'));
});
