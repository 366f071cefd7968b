import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyKey } from '../../src/detect/credentials/classify-key.js';
import { DEFAULT_CREDENTIALS_CONFIG, parseCredentialsConfig, type CredentialsConfig } from '../../src/detect/credentials/config.js';
import { createCredentialDetectors, loadCredentialRules } from '../../src/detect/credentials/index.js';
import { makeExchange } from '../../src/exchange.js';
import { createFingerprinter } from '../../src/fingerprint.js';
import type { Exchange, Finding } from '../../src/types.js';
import { mulberry32, sample } from '../corpus/credentials/formats.js';

const pack = loadCredentialRules();
const fingerprint = createFingerprinter('detectors-test-key');
const rng = mulberry32(99);
const OPENAI = sample('openai-project-key', rng);
const ANTHROPIC = sample('anthropic-api-key', rng);
const STRIPE = sample('stripe-secret-key', rng);
const GITHUB = sample('github-pat-classic', rng);
const AWS = sample('aws-access-key-id', rng);
const GOOGLE = sample('google-api-key', rng);
const VIRTUAL = sample('litellm-virtual-key', rng);

function detectors(config: Partial<CredentialsConfig> = {}) {
  return createCredentialDetectors({ fingerprint, config: { ...DEFAULT_CREDENTIALS_CONFIG, ...config }, pack });
}
function run(ds: ReturnType<typeof detectors>, ex: Exchange, now = 1_700_000_000_000): Finding[] {
  return ds.flatMap((d) => d.detect(ex, { now }) as Finding[]);
}
function identityFor(key: string, keySource: 'authorization' | 'query' | 'x-api-key' = 'authorization') {
  const { keyType, prefix } = classifyKey(key);
  return { clientIp: '10.0.0.1', keyFingerprint: fingerprint(key), keyType, keyPrefix: prefix, keySource, keyLength: key.length };
}
/** No finding may carry any 8-character piece of a secret's body. */
function assertNoSecret(findings: readonly Finding[], secrets: readonly string[]): void {
  const text = JSON.stringify(findings);
  for (const s of secrets) {
    for (let i = 8; i + 8 <= s.length; i += 4) assert.ok(!text.includes(s.slice(i, i + 8)), `secret body leaked: ${s.slice(0, 8)}…`);
  }
}

describe('classifyKey', () => {
  const cases: [string, string, string][] = [
    [ANTHROPIC, 'anthropic', 'sk-ant-'],
    [OPENAI, 'openai', 'sk-proj-'],
    [sample('openai-user-key', rng), 'openai', 'sk-'],
    [sample('openai-legacy-key', rng), 'openai', 'sk-'],
    [VIRTUAL, 'litellm', 'sk-'],
    ['sk-1234', 'litellm', 'sk-'],
    [sample('deepseek-api-key', rng), 'deepseek', 'sk-'],
    [GOOGLE, 'google', 'AIza'],
    [AWS, 'aws', 'AKIA'],
    [sample('groq-api-key', rng), 'groq', 'gsk_'],
    [sample('openrouter-api-key', rng), 'openrouter', 'sk-or-v1-'],
    ['not-a-known-key-0123', 'unknown', ''],
  ];
  for (const [key, keyType, prefix] of cases) {
    test(`${prefix || 'unknown'} → ${keyType}`, () => assert.deepEqual(classifyKey(key), { keyType, prefix }));
  }
});

test('config: defaults for everything, unknown fields rejected', () => {
  assert.equal(DEFAULT_CREDENTIALS_CONFIG.enabled, true);
  assert.equal(DEFAULT_CREDENTIALS_CONFIG.virtualKeysOnly, false);
  assert.equal(DEFAULT_CREDENTIALS_CONFIG.liveness.cacheSize, 100000);
  assert.deepEqual(parseCredentialsConfig({ virtualKeysOnly: true }).rulesDirs, []);
  assert.throws(() => parseCredentialsConfig({ virtualKeyOnly: true }), /GW_ERR_CONFIG_INVALID|invalid credentials config/);
});

describe('content scanning looks everywhere an exchange carries text', () => {
  test('prompt parts, completions, tool calls, tool results, query and other headers — with paths and offsets', () => {
    const ex = makeExchange({
      identity: identityFor(VIRTUAL),
      requestHeaders: { authorization: `Bearer ${VIRTUAL}`, 'x-debug-token': `ghtoken ${GITHUB}` },
      query: `debug=1&stripe=${encodeURIComponent(STRIPE)}`,
      prompt: [
        { path: 'request.body.messages[0].content', role: 'system', text: 'You are helpful.' },
        { path: 'request.body.messages[1].content', role: 'user', text: `use ${OPENAI} please` },
        { path: 'request.body.messages[2].content', role: 'tool', text: `{"aws": "${AWS}"}` },
      ],
      completion: [{ path: 'response.body.choices[0].message.content', role: 'assistant', text: `Sure: ${ANTHROPIC}` }],
      toolCalls: [{ path: 'response.body.choices[0].message.tool_calls[0].function.arguments', name: 'http', arguments: `{"key":"${GOOGLE}"}` }],
    });
    const findings = run(detectors(), ex);
    const byPath = new Map(findings.map((f) => [f.location!.path, f]));
    assert.equal(byPath.get('request.body.messages[1].content')!.detector, 'credential.openai-project-key');
    assert.equal(byPath.get('request.body.messages[1].content')!.location!.start, 4);
    assert.equal(byPath.get('request.body.messages[1].content')!.location!.end, 4 + OPENAI.length);
    assert.equal(byPath.get('request.body.messages[1].content')!.title, 'OpenAI project key in the request prompt');
    assert.equal(byPath.get('request.body.messages[2].content')!.title, 'AWS access key id in a tool result');
    assert.equal(byPath.get('response.body.choices[0].message.content')!.detector, 'credential.anthropic-api-key');
    assert.equal(byPath.get('response.body.choices[0].message.tool_calls[0].function.arguments')!.title, 'Google API key (Gemini / Google Cloud) in tool-call arguments');
    assert.equal(byPath.get('request.query.stripe')!.detector, 'credential.stripe-secret-key');
    assert.equal(byPath.get('request.headers.x-debug-token')!.detector, 'credential.github-pat-classic');
    assert.equal(byPath.has('request.headers.authorization'), false, "the request's own credential is its identity, not a leak");
    for (const f of findings.filter((x) => x.kind === 'secret')) {
      assert.equal(f.category, 'credential');
      assert.match(f.fingerprint!, /^fp:[0-9a-f]{16}$/);
      assert.equal(f.length, f.location!.end! - f.location!.start!);
    }
    assert.equal(byPath.get('request.body.messages[1].content')!.fingerprint, fingerprint(OPENAI));
    assert.equal(byPath.get('request.body.messages[1].content')!.prefix, 'sk-proj-');
    assertNoSecret(findings, [OPENAI, ANTHROPIC, STRIPE, GITHUB, AWS, GOOGLE, VIRTUAL]);
  });

  test('a secret split across WebSocket messages is found, located in the message it starts in', () => {
    const cut = 17;
    const ex = makeExchange({
      wsMessages: [
        { direction: 'client', path: 'ws.client[0]', binary: false, text: `{"type":"input_text","text":"key ${STRIPE.slice(0, cut)}` },
        { direction: 'client', path: 'ws.client[1]', binary: false, text: `${STRIPE.slice(cut)} thanks"}` },
      ],
    });
    const [f] = run(detectors(), ex);
    assert.equal(f!.detector, 'credential.stripe-secret-key');
    assert.equal(f!.location!.path, 'ws.client[0]');
    assert.equal(f!.fingerprint, fingerprint(STRIPE));
    assert.equal(f!.title, 'Stripe live secret key in a WebSocket message');
  });

  test('minSeverity and disabledRules filter findings', () => {
    const ex = makeExchange({ prompt: [{ path: 'p', role: 'user', text: `${STRIPE} and ${sample('jwt', rng)}` }] });
    assert.deepEqual(run(detectors(), ex).map((f) => f.detector).sort(), ['credential.jwt', 'credential.stripe-secret-key']);
    assert.deepEqual(run(detectors({ minSeverity: 'high' }), ex).map((f) => f.detector), ['credential.stripe-secret-key']);
    assert.deepEqual(run(detectors({ disabledRules: ['stripe-secret-key'] }), ex).map((f) => f.detector), ['credential.jwt']);
  });
});

describe('policy detectors', () => {
  test('an Anthropic key sent to an OpenAI route is a provider mismatch', () => {
    const ex = makeExchange({ provider: 'openai', path: '/v1/chat/completions', identity: identityFor(ANTHROPIC) });
    const f = run(detectors(), ex).find((x) => x.detector === 'credential.provider-mismatch')!;
    assert.equal(f.severity, 'high');
    assert.equal(f.keyType, 'anthropic');
    assert.equal(f.prefix, 'sk-ant-');
    assert.equal(f.fingerprint, fingerprint(ANTHROPIC));
    assert.equal(f.location!.path, 'request.headers.authorization');
    assertNoSecret([f], [ANTHROPIC]);
  });

  test('matching keys, LiteLLM keys and unknown routes are not mismatches', () => {
    for (const [provider, key] of [['openai', OPENAI], ['anthropic', ANTHROPIC], ['gemini', GOOGLE], ['openai', VIRTUAL], ['litellm', ANTHROPIC], ['unknown', OPENAI]] as const) {
      const ex = makeExchange({ provider, identity: identityFor(key) });
      assert.equal(run(detectors(), ex).filter((x) => x.detector === 'credential.provider-mismatch').length, 0, `${provider} ${classifyKey(key).keyType}`);
    }
  });

  test('a raw provider key at a virtual-keys-only gateway is flagged; virtual keys are not', () => {
    const raw = makeExchange({ provider: 'openai', identity: identityFor(OPENAI) });
    assert.equal(run(detectors(), raw).filter((f) => f.detector === 'credential.raw-provider-key').length, 0, 'off by default');
    const strict = detectors({ virtualKeysOnly: true });
    assert.equal(run(strict, raw).filter((f) => f.detector === 'credential.raw-provider-key').length, 1);
    const virtual = makeExchange({ provider: 'openai', identity: identityFor(VIRTUAL) });
    assert.equal(run(strict, virtual).filter((f) => f.detector === 'credential.raw-provider-key').length, 0);
    const egress = makeExchange({ provider: 'openai', direction: 'egress', identity: identityFor(OPENAI) });
    assert.equal(run(strict, egress).filter((f) => f.detector === 'credential.raw-provider-key').length, 0, 'egress routes carry provider keys by design');
  });

  test('a key in the URL query is flagged, and not reported again as a leaked secret', () => {
    const ex = makeExchange({ provider: 'gemini', query: `key=${GOOGLE}&alt=sse`, identity: identityFor(GOOGLE, 'query') });
    const findings = run(detectors(), ex);
    assert.deepEqual(findings.map((f) => f.detector), ['credential.key-in-query']);
    assert.equal(findings[0]!.location!.path, 'request.query');
  });
});

describe('passive liveness and correlation', () => {
  test('a key leaked in a prompt and later accepted by the upstream is live: critical', () => {
    const ds = detectors();
    const leak = makeExchange({ identity: identityFor(VIRTUAL), prompt: [{ path: 'request.body.messages[0].content', role: 'user', text: `try ${OPENAI}` }] });
    const [first] = run(ds, leak);
    assert.equal(first!.severity, 'high');
    const use = makeExchange({ provider: 'openai', status: 200, identity: identityFor(OPENAI) });
    const used = run(ds, use).find((f) => f.detector === 'credential.leaked-key-used')!;
    assert.equal(used.severity, 'critical');
    assert.equal(used.fingerprint, fingerprint(OPENAI));
    assert.match(used.title, /live/);
    // Seen again in content after it proved live: critical from the start.
    const again = run(ds, leak).find((f) => f.kind === 'secret')!;
    assert.equal(again.severity, 'critical');
    assert.match(again.summary!, /live/);
  });

  test('a key used first and leaked later is raised by what the upstream said; 401 means revoked', () => {
    const ds = detectors();
    run(ds, makeExchange({ provider: 'openai', status: 401, identity: identityFor(OPENAI) }));
    const [f] = run(ds, makeExchange({ prompt: [{ path: 'p', role: 'user', text: OPENAI }] }));
    assert.equal(f!.severity, 'high');
    assert.match(f!.summary!, /revoked/);
    const used = run(ds, makeExchange({ provider: 'openai', status: 403, identity: identityFor(OPENAI) })).find((x) => x.detector === 'credential.leaked-key-used')!;
    assert.equal(used.severity, 'low');
  });

  test('liveness can be switched off', () => {
    const ds = detectors({ liveness: { enabled: false, cacheSize: 16, ttlSeconds: 60 } });
    run(ds, makeExchange({ provider: 'openai', status: 200, identity: identityFor(OPENAI) }));
    assert.equal(run(ds, makeExchange({ prompt: [{ path: 'p', role: 'user', text: OPENAI }] }))[0]!.severity, 'high');
  });

  test('the same secret in several prompts and users is one incident with a count', () => {
    const ds = detectors();
    let last: Finding | undefined;
    for (const [i, user] of ['alice', 'bob', 'alice'].entries()) {
      const ex = makeExchange({ identity: { clientIp: `10.0.0.${i}`, user }, prompt: [{ path: 'p', role: 'user', text: `key ${STRIPE}` }] });
      [last] = run(ds, ex, 1_700_000_000_000 + i);
    }
    assert.match(last!.summary!, /seen 3 times by 2 user\(s\) from 3 client IP\(s\)/);
  });

  test('the liveness and correlation caches are bounded', () => {
    const ds = detectors({ liveness: { enabled: true, cacheSize: 16, ttlSeconds: 60 }, correlation: { cacheSize: 16, maxSightings: 2 } });
    const r = mulberry32(5);
    for (let i = 0; i < 200; i++) run(ds, makeExchange({ prompt: [{ path: 'p', role: 'user', text: sample('stripe-secret-key', r) }] }));
    const key = sample('stripe-secret-key', r);
    for (let i = 0; i < 5; i++) run(ds, makeExchange({ identity: { clientIp: `10.1.0.${i}`, user: `u${i}` }, prompt: [{ path: 'p', role: 'user', text: key }] }));
    const [f] = run(ds, makeExchange({ prompt: [{ path: 'p', role: 'user', text: key }] }));
    assert.match(f!.summary!, /seen 6 times by 2 user\(s\) from 2 client IP\(s\)/);
  });
});
