import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readBody, send, startUpstream } from '../helpers/servers.js';
import { startTestProxy } from './harness.js';

// When inspection would not take an exchange (busy, or off), the proxy
// forwards it without capturing its bodies and reports it as skipped: the
// client sees the same exchange either way.

test('an exchange inspection would not take is forwarded whole, uncaptured and reported as skipped', async () => {
  const upstream = await startUpstream(async (req, res) => {
    const body = await readBody(req);
    res.writeHead(201, { 'content-type': 'application/json', 'x-echo-bytes': String(body.length) });
    res.end(JSON.stringify({ echoed: body.toString('utf8') }));
  });
  let admit = false;
  const proxy = await startTestProxy(upstream.url, { admits: () => admit });
  try {
    const prompt = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(20_000) }] });
    const skippedReply = await send(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: prompt });
    assert.equal(skippedReply.status, 201);
    assert.equal(skippedReply.headers['x-echo-bytes'], String(prompt.length));
    assert.equal(JSON.parse(skippedReply.body.toString('utf8')).echoed, prompt);
    assert.deepEqual(proxy.skipped, [['default', 201]]);
    assert.equal(proxy.captured.length, 0);

    admit = true;
    const capturedReply = await send(`${proxy.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: prompt });
    assert.equal(capturedReply.status, 201);
    const c = await proxy.nextCapture();
    assert.equal(c.requestBody.toString('utf8'), prompt);
    assert.equal(c.status, 201);
    assert.equal(proxy.skipped.length, 1, 'the admitted exchange is not reported as skipped');
  } finally {
    await proxy.close();
    await upstream.close();
  }
});
