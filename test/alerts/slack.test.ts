import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildAlert } from '../../src/alerts/build.js';
import { createAlertPipeline } from '../../src/alerts/pipeline.js';
import { buildSlackDigest, buildSlackPayload, shapeOf, SLACK_LIMITS } from '../../src/alerts/sinks/slack.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { blockKitProblem, startFakeSlack } from '../helpers/fake-slack.js';
import { anomalyFinding, config, counter, exchange, scrape, secretFinding, TextCollector, waitFor } from './support.js';

const KEY = 'sk-proj-ZZZZ9999YYYY8888XXXX7777WWWW6666';

function slackConfig(url: string, slack: Record<string, unknown> = {}) {
  return config({
    delivery: { retryBaseMs: 20, retryMaxMs: 200 },
    sinks: { stdout: { enabled: false }, slack: { url, minSeverity: 'info', ratePerMinute: 6000, dashboardUrl: 'https://grafana.example/d/gatewatch', ...slack } },
  });
}

describe('buildSlackPayload', () => {
  it('makes a valid Block Kit message with the alert facts and links', () => {
    const alert = { ...buildAlert(secretFinding(KEY), exchange(), Date.parse('2026-03-01T00:00:00Z')), runbook: 'https://docs.example/runbooks#credential' };
    const p = buildSlackPayload(alert, { dashboardUrl: 'https://grafana.example/d/gw' });
    assert.equal(blockKitProblem(p), undefined);
    const text = JSON.stringify(p);
    for (const expected of ['HIGH', 'OpenAI project key in a prompt', alert.identity.key_fingerprint!, '/v1/chat/completions', 'gpt-4o-mini', '*Count*\\n1', 'https://docs.example/runbooks#credential', 'https://grafana.example/d/gw']) {
      assert.ok(text.includes(expected), `missing ${expected}`);
    }
    assert.ok(!text.includes(KEY.slice(8)));
  });

  it('stays inside Block Kit limits with long values and escapes traffic-controlled text', () => {
    const alert = { ...buildAlert(anomalyFinding({ title: 'T'.repeat(400), summary: 's'.repeat(600) }), exchange({ model: '<!channel> <https://evil.example|click>' }), 0) };
    const p = buildSlackPayload(alert);
    assert.equal(blockKitProblem(p), undefined);
    assert.ok(!JSON.stringify(p).includes('<!channel>'));
    const header = p.blocks[0] as { text: { text: string } };
    assert.ok(header.text.text.length <= SLACK_LIMITS.headerText);
  });

  it('a digest of many alerts stays under 50 blocks', () => {
    const batch = Array.from({ length: 80 }, (_, i) => ({ kind: 'firing' as const, alert: buildAlert(anomalyFinding({ severity: i === 7 ? 'critical' : 'low' }), exchange(), 0) }));
    const p = buildSlackDigest(batch, { dashboardUrl: 'https://grafana.example/d/gw' });
    assert.equal(blockKitProblem(p), undefined);
    assert.ok(p.blocks.length <= 50);
    assert.match(p.text, /80 alerts \(highest: critical\)/);
  });

  it('shapeOf keeps structure, never values', () => {
    assert.deepEqual(shapeOf({ type: 'section', text: { type: 'mrkdwn', text: 'secret words' }, n: 3 }), { type: 'section', text: { type: 'mrkdwn', text: 'string(12)' }, n: 'number' });
  });
});

describe('Slack sink against a local Slack', () => {
  it('delivers, honours 429 Retry-After, retries 500', async (t) => {
    const slack = await startFakeSlack();
    const metrics = createMetrics();
    const pipeline = createAlertPipeline(slackConfig(slack.url), { metrics, logger: silentLogger() });
    t.after(async () => {
      await pipeline.close(200);
      await slack.close();
    });
    slack.retryAfterSeconds = 1;
    slack.script(['rate_limited', 'error']);
    const started = performance.now();
    pipeline.submit([secretFinding(KEY)], exchange());
    await waitFor(() => slack.accepted.length === 1, 5000, 'delivery');
    assert.ok(performance.now() - started >= 950, 'waited for Retry-After');
    assert.equal(slack.hits, 3);
    const m = await scrape(metrics);
    assert.equal(counter(m, 'gatewatch_sink_alerts', { sink: 'slack-default', status: 'retried' }), 2);
    assert.equal(counter(m, 'gatewatch_sink_alerts', { sink: 'slack-default', status: 'ok' }), 1);
  });

  it('logs a refused payload by its shape only and does not retry it', async (t) => {
    const slack = await startFakeSlack();
    const logs = new TextCollector();
    const metrics = createMetrics();
    const pipeline = createAlertPipeline(slackConfig(slack.url), { metrics, logger: createLogger({ destination: logs }) });
    t.after(async () => {
      await pipeline.close(200);
      await slack.close();
    });
    slack.mode = 'bad_request';
    pipeline.submit([secretFinding(KEY, 'request.body.messages[0].content', { title: 'Very distinctive title text' })], exchange());
    await waitFor(() => logs.text.includes('Slack refused'), 3000, 'error log');
    assert.equal(slack.hits, 1);
    assert.ok(logs.text.includes('payloadShape'));
    assert.ok(!logs.text.includes('Very distinctive title text'), 'payload values must not be logged');
    assert.ok(!logs.text.includes('XXXXSECRETPATH'), 'webhook URL must not be logged');
    assert.equal(counter(await scrape(metrics), 'gatewatch_sink_alerts', { sink: 'slack-default', status: 'error' }), 1);
  });

  for (const mode of ['no_team', 'forbidden'] as const) {
    it(`disables itself on ${mode === 'no_team' ? '404' : '403'}`, async (t) => {
      const slack = await startFakeSlack();
      const logs = new TextCollector();
      const metrics = createMetrics();
      const pipeline = createAlertPipeline(slackConfig(slack.url), { metrics, logger: createLogger({ destination: logs }) });
      t.after(async () => {
        await pipeline.close(200);
        await slack.close();
      });
      slack.mode = mode;
      pipeline.submit([secretFinding(KEY)], exchange());
      await waitFor(() => logs.text.includes('sink disabled'), 3000, 'disable log');
      slack.mode = 'ok';
      pipeline.submit([anomalyFinding()], exchange());
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(slack.hits, 1, 'no request after disabling');
      assert.ok(!logs.text.includes('XXXXSECRETPATH'));
      const m = await scrape(metrics);
      assert.equal(counter(m, 'gatewatch_sink_alerts', { sink: 'slack-default', status: 'dropped' }), 1);
    });
  }

  it('sends a digest when many alerts arrive at once', async (t) => {
    const slack = await startFakeSlack();
    const pipeline = createAlertPipeline(slackConfig(slack.url, { digestThreshold: 5 }), { metrics: createMetrics(), logger: silentLogger() });
    t.after(async () => {
      await pipeline.close(200);
      await slack.close();
    });
    slack.slowMs = 300;
    slack.script(['slow']);
    for (let i = 0; i < 30; i++) pipeline.submit([secretFinding(`sk-proj-${String(i).padStart(4, '0')}AAAABBBBCCCCDDDDEEEEFFFF`)], exchange());
    await waitFor(() => slack.accepted.length >= 2 && slack.accepted.reduce<number>((n, p) => n + digestSize(p), 0) === 30, 5000, 'all 30 delivered');
    assert.ok(slack.accepted.length <= 4, `30 alerts in ${slack.accepted.length} messages`);
  });

  it('routes by category to different webhooks', async (t) => {
    const creds = await startFakeSlack();
    const anomalies = await startFakeSlack();
    const c = slackConfig(creds.url, { categories: ['credential'], routes: [{ name: 'anomalies', url: anomalies.url, categories: ['anomaly'], minSeverity: 'info' }] });
    const pipeline = createAlertPipeline(c, { metrics: createMetrics(), logger: silentLogger() });
    t.after(async () => {
      await pipeline.close(200);
      await creds.close();
      await anomalies.close();
    });
    pipeline.submit([secretFinding(KEY), anomalyFinding()], exchange());
    await waitFor(() => creds.accepted.length === 1 && anomalies.accepted.length === 1, 3000, 'both routes');
    assert.match(JSON.stringify(creds.accepted[0]), /credential\.openai-project-key/);
    assert.match(JSON.stringify(anomalies.accepted[0]), /anomaly\.request-rate/);
  });

  it('applies the minimum severity', async (t) => {
    const slack = await startFakeSlack();
    const pipeline = createAlertPipeline(slackConfig(slack.url, { minSeverity: 'high' }), { metrics: createMetrics(), logger: silentLogger() });
    t.after(async () => {
      await pipeline.close(200);
      await slack.close();
    });
    pipeline.submit([anomalyFinding({ severity: 'medium' }), secretFinding(KEY)], exchange());
    await waitFor(() => slack.accepted.length === 1, 3000, 'delivery');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(slack.hits, 1);
  });
});

function digestSize(payload: unknown): number {
  const text = (payload as { text: string }).text;
  const m = /gatewatch: (\d+) alerts/.exec(text);
  return m ? Number(m[1]) : 1;
}
