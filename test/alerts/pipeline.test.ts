import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IncidentTracker } from '../../src/alerts/incidents.js';
import { createAlertPipeline } from '../../src/alerts/pipeline.js';
import { Silences } from '../../src/alerts/silences.js';
import { buildAlert } from '../../src/alerts/build.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { Alert } from '../../src/types.js';
import { anomalyFinding, config, counter, exchange, fingerprint, scrape, secretFinding, sleep, TextCollector, waitFor } from './support.js';

interface Line {
  alert_status: string;
  alert: Alert;
}

function harness(overrides: Record<string, unknown> = {}) {
  let now = Date.parse('2026-03-01T12:00:00.000Z');
  const out = new TextCollector();
  const metrics = createMetrics();
  const pipeline = createAlertPipeline(config({ groupWindowMs: 200, resolveAfterMs: 1000, dedupWindowMs: 5000, ...overrides, sinks: { stdout: { enabled: true } } }), {
    metrics,
    logger: silentLogger(),
    now: () => now,
    stdout: out,
  });
  return {
    pipeline,
    metrics,
    advance: (ms: number) => (now += ms),
    lines: () => out.lines() as Line[],
    close: () => pipeline.close(100),
  };
}

const KEY_A = 'sk-proj-AAAA1111BBBB2222CCCC3333DDDD4444';
const KEY_B = 'sk-proj-EEEE5555FFFF6666GGGG7777HHHH8888';

describe('alert pipeline: dedup, grouping, resolve', () => {
  it('fires once per incident, folds repeats into one update, then resolves', async (t) => {
    const h = harness();
    t.after(h.close);
    const ex = exchange();
    for (let i = 0; i < 5; i++) h.pipeline.submit([secretFinding(KEY_A)], ex);
    h.pipeline.submit([secretFinding(KEY_B)], ex);
    assert.deepEqual(h.lines().map((l) => l.alert_status), ['firing', 'firing']);
    const first = h.lines()[0]!.alert;

    h.advance(250);
    await waitFor(() => h.lines().length === 3, 2000, 'update');
    const update = h.lines()[2]!;
    assert.equal(update.alert_status, 'update');
    assert.equal(update.alert.id, first.id);
    assert.equal(update.alert.count, 5);
    assert.equal(update.alert.first_seen, first.first_seen);

    h.advance(1000);
    await waitFor(() => h.lines().length === 5, 2000, 'resolves');
    const resolved = h.lines().slice(3);
    assert.deepEqual(resolved.map((l) => l.alert_status).sort(), ['resolved', 'resolved']);
    assert.equal(resolved.find((l) => l.alert.id === first.id)!.alert.count, 5);

    const m = await scrape(h.metrics);
    assert.equal(counter(m, 'gatewatch_alerts', { detector: 'credential.openai-project-key', severity: 'high' }), 2);
    assert.equal(counter(m, 'gatewatch_sink_alerts', { sink: 'stdout', status: 'ok' }), 5);
    assert.ok(!m.includes('fp:'), 'no fingerprint in metric labels');
  });

  it('keeps recent alerts newest first, updated in place', async (t) => {
    const h = harness();
    t.after(h.close);
    h.pipeline.submit([secretFinding(KEY_A)], exchange());
    h.pipeline.submit([secretFinding(KEY_A)], exchange());
    h.pipeline.submit([anomalyFinding()], exchange({ identity: { clientIp: '10.0.0.9' } }));
    h.advance(250);
    await waitFor(() => h.pipeline.recent(10)[1]?.count === 2, 2000, 'update in ring');
    const recent = h.pipeline.recent(10);
    assert.equal(recent.length, 2);
    assert.equal(recent[0]!.detector, 'anomaly.request-rate');
    assert.equal(h.pipeline.recent(1).length, 1);
  });

  it('fires afresh once the dedup window has passed', () => {
    const tracker = new IncidentTracker({ dedupWindowMs: 1000, groupWindowMs: 100, resolveAfterMs: 10_000, maxIncidents: 10 });
    const alert = buildAlert(secretFinding(KEY_A), exchange(), 0);
    assert.equal(tracker.observe(alert, 0).fresh, true);
    assert.equal(tracker.observe(alert, 500).fresh, false);
    assert.equal(tracker.observe(alert, 1000).fresh, true);
  });

  it('bounds the number of open incidents', () => {
    const tracker = new IncidentTracker({ dedupWindowMs: 1000, groupWindowMs: 100, resolveAfterMs: 10_000, maxIncidents: 3 });
    for (let i = 0; i < 10; i++) tracker.observe(buildAlert(secretFinding(`sk-proj-${i}xxxxxxxxxxxxxxxxxxxxxxxx`), exchange(), 0), 0);
    assert.equal(tracker.size, 3);
  });
});

describe('alert pipeline: inhibition', () => {
  it('a leaked-key alert suppresses spike alerts of the same key for the window', async (t) => {
    const h = harness({ inhibition: { windowMs: 1000 } });
    t.after(h.close);
    const leakedKeyUser = exchange({ identity: { clientIp: '10.9.9.9', keyFingerprint: fingerprint(KEY_A), keyType: 'openai' } });
    const otherUser = exchange({ identity: { clientIp: '10.9.9.8', keyFingerprint: fingerprint(KEY_B), keyType: 'openai' } });
    h.pipeline.submit([secretFinding(KEY_A)], exchange());
    h.pipeline.submit([anomalyFinding()], leakedKeyUser);
    h.pipeline.submit([anomalyFinding()], otherUser);
    assert.deepEqual(h.lines().map((l) => `${l.alert.detector} ${l.alert.identity.key_fingerprint}`), [
      `credential.openai-project-key ${fingerprint('sk-caller-key-000000000000')}`,
      `anomaly.request-rate ${fingerprint(KEY_B)}`,
    ]);
    h.advance(1001);
    h.pipeline.submit([anomalyFinding()], leakedKeyUser);
    assert.equal(h.lines().at(-1)!.alert.identity.key_fingerprint, fingerprint(KEY_A));
    const m = await scrape(h.metrics);
    assert.equal(counter(m, 'gatewatch_sink_alerts', { sink: 'pipeline', status: 'suppressed' }), 1);
  });
});

describe('alert pipeline: silences', () => {
  it('silences by detector prefix (config), identity and route (API), until expiry', async (t) => {
    const h = harness({ silences: [{ detector: 'exfiltration.*', comment: 'noisy' }] });
    t.after(h.close);
    const ex = exchange();
    h.pipeline.submit([anomalyFinding({ detector: 'exfiltration.markdown-image', category: 'exfiltration' })], ex);
    assert.equal(h.lines().length, 0);

    const byUser = h.pipeline.silences.add({ identity: 'alice', until: new Date(Date.parse('2026-03-01T12:00:00.000Z') + 500).toISOString() });
    h.pipeline.submit([anomalyFinding()], ex);
    assert.equal(h.lines().length, 0);
    h.advance(600);
    h.pipeline.submit([anomalyFinding()], ex);
    assert.equal(h.lines().length, 1, 'silence expired');
    assert.ok(!h.pipeline.silences.list().some((s) => s.id === byUser.id));

    h.pipeline.silences.add({ route: '/v1/embeddings' });
    h.pipeline.submit([secretFinding(KEY_B)], exchange({ path: '/v1/embeddings' }));
    h.pipeline.submit([secretFinding(KEY_B)], exchange({ path: '/v1/chat/completions' }));
    assert.equal(h.lines().length, 2);
    assert.equal(h.lines()[1]!.alert.request.path, '/v1/chat/completions');
  });

  it('refuses a silence that names nothing', () => {
    const s = new Silences();
    assert.throws(() => s.add({}), /at least one of detector, identity, route/);
    assert.throws(() => s.add({ detector: 'a b' }), /detector/);
    const all = s.add({ detector: '*' });
    assert.ok(s.silenced(buildAlert(anomalyFinding(), exchange(), 0)));
    assert.ok(s.remove(all.id));
    assert.ok(!s.silenced(buildAlert(anomalyFinding(), exchange(), 0)));
  });
});

describe('alert pipeline: fail open', () => {
  it('submit never throws, even on malformed findings', async (t) => {
    const h = harness();
    t.after(h.close);
    // @ts-expect-error deliberately broken finding
    h.pipeline.submit([null, { detector: 'x' }, anomalyFinding()], exchange());
    h.pipeline.submit([], exchange());
    await sleep(10);
    assert.equal(h.lines().length, 1, 'the good finding still alerts');
  });
});
