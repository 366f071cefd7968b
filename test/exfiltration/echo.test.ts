import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeExchange } from '../../src/exchange.js';
import { DEFAULT_EXFILTRATION_CONFIG } from '../../src/detect/exfiltration/config.js';
import { EchoTracker } from '../../src/detect/exfiltration/echo.js';
import type { Exchange } from '../../src/types.js';
import { detectorsFor, run } from './helpers.js';

const SYSTEM =
  'You are Nimbus, the support assistant of Globex Cloud. Only answer questions about hosting plans, billing and outages. ' +
  'Never reveal internal discount codes such as the partner tier pricing. Escalate to a human when a customer mentions a refund above five hundred dollars. ' +
  'Keep answers under one hundred words and always end with a link to the status page.';
const cfg = DEFAULT_EXFILTRATION_CONFIG.echo;
const echo = detectorsFor().filter((d) => d.id === 'exfiltration.system-prompt-echo');

function exchange(completion: string, stream = false, system = SYSTEM): Exchange {
  return makeExchange({
    stream,
    prompt: [
      { path: 'request.body.messages[0].content', role: 'system', text: system },
      { path: 'request.body.messages[1].content', role: 'user', text: 'hi' },
    ],
    completion: [{ path: 'response.body.choices[0].message.content', role: 'assistant', text: completion }],
  });
}

const sentences = SYSTEM.match(/[^.]+\./g)!.map((s) => s.trim());
const leak30 = sentences.slice(1, 3).join(' ');

test('echo: a completion that reproduces the system prompt is detected (non-streamed)', async () => {
  const f = await run(echo, exchange(`Sure! My instructions say: ${SYSTEM}`));
  assert.equal(f.length, 1);
  assert.equal(f[0]!.detector, 'exfiltration.system-prompt-echo');
  assert.equal(f[0]!.severity, 'critical');
  assert.equal(f[0]!.location!.path, 'response.body.choices[0].message.content');
  assert.ok(!JSON.stringify(f).includes('Globex'), 'the finding carries no prompt text');
});

test('echo: a partial leak (≥30%) reformatted as bullets in upper case is detected', async () => {
  assert.ok(leak30.split(' ').length / SYSTEM.split(' ').length >= 0.3);
  const bullets = leak30.split('. ').map((s) => `* ${s.toUpperCase()}`).join('\n');
  const f = await run(echo, exchange(bullets));
  assert.equal(f.length, 1);
  assert.equal(f[0]!.severity, 'high');
});

test('echo: streamed completions are tracked chunk by chunk, words split across chunks', () => {
  for (const size of [1, 3, 7, 64]) {
    const tracker = new EchoTracker([SYSTEM], cfg);
    const text = `Here you go: ${leak30} Anything else?`;
    let echoedAt = -1;
    for (let i = 0; i < text.length; i += size) {
      tracker.push(text.slice(i, i + size));
      if (echoedAt < 0 && tracker.result().echoed) echoedAt = i;
    }
    tracker.endPart();
    assert.ok(tracker.result().echoed, `chunk size ${size}`);
    assert.ok(echoedAt >= 0 && echoedAt < text.length, 'raised while the stream is still arriving');
  }
});

test('echo: streamed and whole completions give the same result', () => {
  const text = `Sure. ${sentences.slice(0, 2).join(' ')}`;
  const whole = new EchoTracker([SYSTEM], cfg);
  whole.push(text);
  whole.endPart();
  const streamed = new EchoTracker([SYSTEM], cfg);
  for (const ch of text) streamed.push(ch);
  streamed.endPart();
  assert.deepEqual(streamed.result(), whole.result());
});

test('echo: an ordinary answer that shares a few words is not an echo', async () => {
  const answer = 'Hi! Globex Cloud hosting plans start at ten dollars a month. You can check outages on the status page. Anything else?';
  assert.deepEqual(await run(echo, exchange(answer)), []);
});

test('echo: short system prompts are not checked', async () => {
  assert.deepEqual(await run(echo, exchange('You are a helpful assistant.', false, 'You are a helpful assistant.')), []);
});

test('echo: a system prompt leaked into tool-call arguments is detected', async () => {
  const ex = makeExchange({
    prompt: [{ path: 'request.body.messages[0].content', role: 'system', text: SYSTEM }],
    toolCalls: [{ path: 'response.body.choices[0].message.tool_calls[0].function.arguments', name: 'send', arguments: JSON.stringify({ body: SYSTEM }) }],
  });
  const f = await run(echo, ex);
  assert.equal(f.length, 1);
  assert.match(f[0]!.location!.path, /tool_calls/);
});

test('echo: the tracker keeps only hashes of the system prompt', () => {
  const tracker = new EchoTracker([SYSTEM], cfg);
  tracker.push('some completion text');
  const strings: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 4 || v === null) return;
    if (typeof v === 'string') strings.push(v);
    else if (v instanceof Set) for (const x of v) walk(x, depth + 1);
    else if (typeof v === 'object') for (const x of Object.values(v as object)) walk(x, depth + 1);
  };
  walk(tracker, 0);
  for (const s of strings) assert.ok(!SYSTEM.includes(s) || s.length < 3, `kept text: ${s}`);
});
