import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { buildAlert, normalizePath, safePath, scrub } from '../../src/alerts/build.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { exchange, secretFinding, anomalyFinding } from './support.js';

const schema = JSON.parse(readFileSync(join(PROJECT_ROOT, 'src/alerts/alert.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

const SECRET = 'sk-proj-Abc123Def456Ghi789Jkl012Mno345Pqr678Stu901';

describe('buildAlert', () => {
  it('builds a schema-valid alert from a credential finding', () => {
    const ex = exchange({ traceId: '0af7651916cd43dd8448eb211c80319c' });
    const alert = buildAlert(secretFinding(SECRET), ex, Date.parse('2026-01-02T03:04:05.000Z'));
    assert.ok(validate(alert), JSON.stringify(validate.errors));
    assert.equal(alert.detector, 'credential.openai-project-key');
    assert.equal(alert.time, '2026-01-02T03:04:05.000Z');
    assert.equal(alert.first_seen, alert.time);
    assert.equal(alert.count, 1);
    assert.deepEqual(alert.identity, { key_fingerprint: ex.identity.keyFingerprint, key_type: 'litellm-virtual', client_ip: '10.1.2.3', user: 'alice', team: 'red' });
    assert.deepEqual(alert.request, { method: 'POST', path: '/v1/chat/completions', provider: 'openai', model: 'gpt-4o-mini', trace_id: ex.traceId, direction: 'ingress' });
    assert.equal(alert.evidence.length, 1);
    assert.equal(alert.evidence[0]!.location, `request.body.messages[0].content chars 10-${10 + SECRET.length}`);
    assert.match(alert.evidence[0]!.fingerprint!, /^fp:[0-9a-f]{16}$/);
    assert.equal(alert.runbook, 'docs/runbooks.md#credential');
    assert.match(alert.summary, /prefix sk-proj-/);
    assert.ok(!JSON.stringify(alert).includes(SECRET.slice(8)), 'secret body must not appear');
  });

  it('gives each alert its own id and falls back to the category when a finding has no location', () => {
    const ex = exchange();
    const a = buildAlert(anomalyFinding({ location: undefined, kind: undefined }), ex, 0);
    const b = buildAlert(anomalyFinding(), ex, 0);
    assert.notEqual(a.id, b.id);
    assert.deepEqual(a.evidence, [{ location: 'anomaly', kind: 'anomaly' }]);
    assert.ok(validate(a), JSON.stringify(validate.errors));
  });

  it('keeps a finding runbook and clips long previews', () => {
    const a = buildAlert(anomalyFinding({ runbook: 'https://runbooks.example/rate', preview: 'x'.repeat(1000) }), exchange(), 0);
    assert.equal(a.runbook, 'https://runbooks.example/rate');
    assert.equal(a.evidence[0]!.preview!.length, 160);
    assert.ok(validate(a), JSON.stringify(validate.errors));
  });

  it('cuts keys out of client-controlled fields and paths', () => {
    const ex = exchange({ model: `gpt-4o ${SECRET}`, path: `/v1/keys/${SECRET}/usage`, identity: { clientIp: '127.0.0.1', user: `u-${SECRET}` } });
    const a = buildAlert(anomalyFinding(), ex, 0);
    const text = JSON.stringify(a);
    assert.ok(!text.includes('Abc123Def456'), text);
    assert.equal(a.request.path, '/v1/keys/:id/usage');
    assert.equal(a.request.model, 'gpt-4o [redacted]');
    assert.ok(validate(a), JSON.stringify(validate.errors));
  });
});

describe('normalizePath', () => {
  it('replaces ids and tokens, keeps API words and model names', () => {
    assert.equal(normalizePath('/v1/threads/12345/messages'), '/v1/threads/:id/messages');
    assert.equal(normalizePath('/v1/files/3f9a1c0d-2b7e-4a55-9c1d-0123456789ab'), '/v1/files/:id');
    assert.equal(normalizePath('/v1beta/models/gemini-1.5-pro:generateContent'), '/v1beta/models/gemini-1.5-pro:generateContent');
    assert.equal(normalizePath('/openai/deployments/my-gpt4/chat/completions?api-version=2024'), '/openai/deployments/my-gpt4/chat/completions');
    assert.ok(normalizePath(`/${'a/'.repeat(300)}`).length <= 200);
  });

  it('scrub leaves ordinary names alone', () => {
    assert.equal(scrub('claude-3-5-sonnet-20241022'), 'claude-3-5-sonnet-20241022');
    assert.equal(scrub(undefined), undefined);
  });
});

it('a secret used as a JSON key never reaches the alert through its location', () => {
  const key = 'sk-proj-' + 'Tq3Wv5Xy7Za9Bc1De3Fg5Hi7Jk9Lm1No3Pq5';
  assert.equal(safePath(`request.body.config.${key}.value`), 'request.body.config.*.value');
  assert.equal(safePath('request.body.messages[3].content[1].text'), 'request.body.messages[3].content[1].text');
  assert.equal(safePath('response.stream.choices[0].delta.content'), 'response.stream.choices[0].delta.content');
});
