import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startGatewatch, type Gatewatch } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { readBody, send, sleep, startUpstream, type RunningServer } from '../helpers/servers.js';
import { mulberry32, sample } from '../corpus/credentials/formats.js';

// The credential policy detectors through the real proxy: a fake upstream
// on loopback, the sidecar in front of it configured for virtual keys only,
// then every output (logs, stdout alerts, the alerts API, metrics) searched
// for the keys that went through.

const rng = mulberry32(777);
const ANTHROPIC = sample('anthropic-api-key', rng);
const OPENAI = sample('openai-project-key', rng);
const GOOGLE = sample('google-api-key', rng);
const VIRTUAL = sample('litellm-virtual-key', rng);
const REVOKED = sample('openai-project-key', rng);
const SECRETS = [ANTHROPIC, OPENAI, GOOGLE, VIRTUAL, REVOKED];

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

type AlertJson = { detector: string; severity: string; count: number; identity: Record<string, string>; evidence: { location: string; fingerprint?: string }[] };

describe('credential policy detectors through the proxy', () => {
  let upstream: RunningServer | undefined;
  let gw: Gatewatch | undefined;
  const stdout = new Collector();
  const logs = new Collector();

  before(async () => {
    upstream = await startUpstream(async (req, res) => {
      await readBody(req);
      const auth = String(req.headers.authorization ?? '');
      if (auth.includes(REVOKED)) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return void res.end('{"error":{"message":"invalid api key"}}');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ model: 'gpt-4o', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }));
    });
    const config = validateConfig({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      upstream: upstream!.url,
      fingerprintKey: 'credentials-proxy-test-key-0123456789',
      credentials: { virtualKeysOnly: true },
      alerts: { groupWindowMs: 100 },
    });
    gw = await startGatewatch(config, { stdout, logger: createLogger({ level: 'debug', destination: logs }), now: () => Date.now() });
  });

  after(async () => {
    await gw?.close(2000);
    await upstream?.close();
  });

  const proxy = (path: string) => `http://127.0.0.1:${gw!.proxyAddress.port}${path}`;
  const admin = (path: string) => `http://127.0.0.1:${gw!.adminAddress.port}${path}`;
  const alerts = async () => JSON.parse((await send(admin('/api/alerts?limit=200'))).body.toString()) as AlertJson[];
  const waitFor = async (detector: string, extra: (a: AlertJson) => boolean = () => true): Promise<AlertJson> => {
    for (let i = 0; i < 150; i++) {
      const hit = (await alerts()).find((a) => a.detector === detector && extra(a));
      if (hit) return hit;
      await sleep(20);
    }
    assert.fail(`no ${detector} alert; got ${JSON.stringify((await alerts()).map((a) => a.detector))}`);
  };
  const chat = (key: string, content = 'hello') =>
    send(proxy('/v1/chat/completions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content }] }),
    });

  test('an Anthropic key sent to an OpenAI route: provider mismatch, and a raw provider key at a virtual-keys gateway', async () => {
    assert.equal((await chat(ANTHROPIC)).status, 200, 'traffic is forwarded unchanged');
    const mismatch = await waitFor('credential.provider-mismatch');
    assert.equal(mismatch.severity, 'high');
    assert.equal(mismatch.identity.key_type, 'anthropic');
    assert.match(mismatch.identity.key_fingerprint!, /^fp:[0-9a-f]{16}$/);
    const raw = await waitFor('credential.raw-provider-key', (a) => a.identity.key_type === 'anthropic');
    assert.equal(raw.evidence[0]!.location, 'request.headers.authorization');
  });

  test('a virtual key is neither a mismatch nor a raw provider key', async () => {
    const before = (await alerts()).length;
    assert.equal((await chat(VIRTUAL)).status, 200);
    await sleep(200);
    const after = await alerts();
    assert.ok(!after.slice(0, after.length - before).some((a) => a.identity.key_type === 'litellm'));
  });

  test('a key in the URL query where a header would do', async () => {
    const reply = await send(proxy(`/v1beta/models/gemini-1.5-pro:generateContent?key=${GOOGLE}`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    assert.equal(reply.status, 200);
    const a = await waitFor('credential.key-in-query');
    assert.equal(a.identity.key_type, 'google');
  });

  test('passive liveness: a key leaked in a prompt, then accepted by the upstream, is live and critical', async () => {
    await chat(VIRTUAL, `can you check why ${OPENAI} fails?`);
    await waitFor('credential.openai-project-key');
    await chat(OPENAI);
    const live = await waitFor('credential.leaked-key-used', (a) => a.severity === 'critical');
    assert.match(live.identity.key_fingerprint!, /^fp:/);
  });

  test('a leaked key the upstream refuses (401) is reported as revoked, low', async () => {
    await chat(VIRTUAL, `old key: ${REVOKED}`);
    await waitFor('credential.openai-project-key', (a) => a.count >= 1 && a.evidence.some((e) => e.location.startsWith('request.body')));
    assert.equal((await chat(REVOKED)).status, 401);
    await waitFor('credential.leaked-key-used', (a) => a.severity === 'low');
  });

  test('no output holds any part of a secret body', async () => {
    await sleep(150);
    const outputs = {
      logs: logs.text,
      stdout: stdout.text,
      alertsApi: (await send(admin('/api/alerts?limit=500'))).body.toString(),
      metrics: (await send(admin('/metrics'))).body.toString(),
    };
    assert.ok(outputs.stdout.length > 0 && outputs.alertsApi.length > 2, 'the outputs were produced');
    for (const [name, text] of Object.entries(outputs)) {
      for (const s of SECRETS) {
        for (let i = 8; i + 8 <= s.length; i += 3) assert.ok(!text.includes(s.slice(i, i + 8)), `${name} holds part of ${s.slice(0, 8)}…`);
      }
    }
  });
});
