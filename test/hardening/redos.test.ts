import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { loadCredentialRules } from '../../src/detect/engine/rules-load.js';
import { regexSafetyProblem } from '../../src/detect/engine/regex-safety.js';
import { createContentDetectors } from '../../src/detect/registry.js';
import { makeExchange } from '../../src/exchange.js';
import { createFingerprinter } from '../../src/fingerprint.js';
import type { Detector } from '../../src/types.js';
import { send } from '../helpers/servers.js';
import { closeLeftovers, fakeAwsId, metricSum, startRecordingUpstream, startSidecar, waitForSecretAlert } from './support.js';

// Inputs crafted for catastrophic backtracking: long runs of what each
// shipped rule's pattern accepts after its keyword, with a character at the
// end that makes the match fail, and floods of keywords. Every content
// detector must finish each in bounded time, and through the sidecar such a
// prompt must cost the client nothing.

after(closeLeftovers);

/** Generous: a backtracking blow-up on 32 KiB takes seconds to forever; a linear scan takes milliseconds. */
const BUDGET_MS = 1500;
const RUN = 32 * 1024;

const detectors: Detector[] = createContentDetectors(validateConfig({}), createFingerprinter('redos-test-key'));
const rules = loadCredentialRules().rules;

function adversarialInputs(): Array<[string, string]> {
  const inputs: Array<[string, string]> = [];
  const runs = ['a', 'A', '0', '-', '_', '/', '=', ' ', 'aA0', '%2F'];
  const keywords = [...new Set(rules.flatMap((r) => r.keywords))];
  for (const k of keywords) {
    for (const c of runs) inputs.push([`${k}+${JSON.stringify(c)}×`, `${k}${c.repeat(Math.ceil(RUN / c.length)).slice(0, RUN)}!`]);
    inputs.push([`${k} flood`, `${k} `.repeat(Math.ceil(RUN / (k.length + 1)))]);
  }
  const exfil = [
    'ignore ',
    'ignore previous ',
    'i g n o r e ',
    'repeat the text above ',
    'system prompt ',
    '![',
    '![a](http://',
    '](https://a.',
    '<img src="http://',
    'http://a.',
    'data:image/png;base64,',
    '%',
    '\\u00',
    'base64:',
    'aGVsbG8g',
  ];
  for (const e of exfil) inputs.push([`${JSON.stringify(e)} flood`, e.repeat(Math.ceil(RUN / e.length)).slice(0, RUN)]);
  return inputs;
}

test('every content detector finishes every crafted input in bounded time', async (t) => {
  const inputs = adversarialInputs();
  assert.ok(inputs.length > 200, `${inputs.length} crafted inputs`);
  let slowest = { ms: 0, what: '' };
  for (const [what, text] of inputs) {
    const exchange = makeExchange({
      provider: 'openai',
      operation: 'chat',
      prompt: [{ path: 'request.body.messages[0].content', role: 'user', text }],
      completion: [{ path: 'response.body.choices[0].message.content', role: 'assistant', text }],
    });
    for (const d of detectors) {
      const started = performance.now();
      await d.detect(exchange, { now: Date.now() });
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { ms, what: `${d.id} on ${what}` };
      assert.ok(ms < BUDGET_MS, `${d.id} took ${ms.toFixed(0)} ms on ${what}`);
    }
  }
  t.diagnostic(`slowest detector run ${slowest.ms.toFixed(1)} ms (${slowest.what})`);
});

test('a user rule with a catastrophic pattern is refused when rules load', () => {
  for (const pattern of ['(a+)+$', '(a|a)*b', '(\\w+\\s?)*$', '([a-z0-9]+-?)+x', '(.*a){20}', '(a|ab)*c', '(x+x+)+y', '(\\d+)*\\1']) {
    assert.ok(regexSafetyProblem(pattern) !== undefined, `${pattern} is flagged as unsafe`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatewatch-redos-'));
  try {
    const rule = rules[0]!;
    writeFileSync(
      join(dir, 'evil.yaml'),
      [
        'rules:',
        '  - id: evil-backtracking',
        '    title: Evil',
        `    provider: ${rule.provider}`,
        `    family: ${rule.family}`,
        '    severity: high',
        '    keywords: [evil]',
        "    pattern: 'evil(a+)+$'",
        '    samples:',
        '      positive: [evilaaa]',
        '      negative: [good]',
      ].join('\n'),
    );
    assert.throws(() => loadCredentialRules([dir]), /GW_ERR_RULE_UNSAFE_REGEX|GW_ERR_RULE_INVALID/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('through the sidecar, crafted prompts cost the client nothing and inspection keeps working', async () => {
  const upstream = await startRecordingUpstream();
  const sidecar = await startSidecar(upstream.url);
  try {
    const inputs = adversarialInputs().filter((_, i) => i % 13 === 0);
    const started = performance.now();
    for (const [, text] of inputs) {
      const r = await send(`${sidecar.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: text }] }) });
      assert.equal(r.status, 200);
    }
    const perRequest = (performance.now() - started) / inputs.length;
    assert.ok(perRequest < 100, `${perRequest.toFixed(1)} ms per crafted request`);
    // Inspection is not wedged: a key sent after the flood is still found.
    const key = fakeAwsId();
    await send(`${sidecar.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: `after the flood ${key}` }] }) });
    await waitForSecretAlert(sidecar, key, 'a prompt after the crafted flood', 20_000);
    const metrics = (await send(`${sidecar.adminUrl}/metrics`)).body.toString();
    assert.ok(metricSum(metrics, 'gatewatch_detector_runs') > 0);
  } finally {
    await sidecar.close();
    await upstream.close();
  }
});
