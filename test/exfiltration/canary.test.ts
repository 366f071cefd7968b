import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeExchange } from '../../src/exchange.js';
import { detectorsFor, fingerprint, run } from './helpers.js';

const CANARY = 'GW-CANARY-7f3a91c2';
const canary = detectorsFor({ canaries: [CANARY, 'second-canary-token-x'] }).filter((d) => d.id === 'exfiltration.canary');

test('canary: in a completion it is critical, named by fingerprint only', async () => {
  const f = await run(canary, makeExchange({ completion: [{ path: 'response.body.content[0].text', role: 'assistant', text: `My secret marker is ${CANARY}.` }] }));
  assert.equal(f.length, 1);
  assert.equal(f[0]!.severity, 'critical');
  assert.equal(f[0]!.fingerprint, fingerprint(CANARY));
  assert.deepEqual(f[0]!.location, { path: 'response.body.content[0].text', start: 20, end: 20 + CANARY.length });
  assert.ok(!JSON.stringify(f).includes(CANARY));
  assert.ok(!JSON.stringify(f).toLowerCase().includes('7f3a91c2'));
});

test('canary: in tool-call arguments and upstream WebSocket messages', async () => {
  const ex = makeExchange({
    toolCalls: [{ path: 'response.body.tool_calls[0].function.arguments', name: 'http_get', arguments: `{"url":"https://x.test/?q=${CANARY}"}` }],
    wsMessages: [{ direction: 'upstream', path: 'ws.upstream[3]', binary: false, text: `{"delta":"${CANARY}"}` }],
  });
  const f = await run(canary, ex);
  assert.deepEqual(f.map((x) => x.location!.path).sort(), ['response.body.tool_calls[0].function.arguments', 'ws.upstream[3]']);
});

test('canary: spaced out, re-cased or with look-alike letters it is still found', async () => {
  for (const text of ['g w - c a n a r y - 7 f 3 a 9 1 c 2', 'gw_canary_7F3A91C2', 'GW-СANARY-7f3a91c2']) {
    const f = await run(canary, makeExchange({ completion: [{ path: 'c', role: 'assistant', text }] }));
    assert.equal(f.length, 1, text);
  }
});

test('canary: in the prompt or a client WebSocket message (where it is planted) it is not a finding', async () => {
  const ex = makeExchange({
    prompt: [{ path: 'request.body.system', role: 'system', text: `Internal marker ${CANARY}` }],
    wsMessages: [{ direction: 'client', path: 'ws.client[0]', binary: false, text: `{"instructions":"${CANARY}"}` }],
    completion: [{ path: 'c', role: 'assistant', text: 'Hello!' }],
  });
  assert.deepEqual(await run(canary, ex), []);
});

test('canary: no canaries configured means no canary detector', () => {
  assert.ok(!detectorsFor().some((d) => d.id === 'exfiltration.canary'));
});
