import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { startGatewatch } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { mulberry32, sample } from '../corpus/credentials/formats.js';
import { readBody, send, sleep, startUpstream } from '../helpers/servers.js';
import { threadIds, threadNiceness } from '../helpers/threads.js';

// `inspection.enabled: false`: gatewatch is a plain forwarding proxy. No
// inspection thread is started (it would be the one thread at the configured
// niceness), nothing is detected, the body still arrives whole and the
// request is still counted.

const threadsAt = (n: number) => threadIds().filter((tid) => threadNiceness(tid) === n);

test('inspection disabled: forwarding only, no inspection thread, nothing detected', async () => {
  const received: Buffer[] = [];
  const upstream = await startUpstream(async (req, res) => {
    received.push(await readBody(req));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"choices":[]}');
  });
  const stdout = new (class extends Writable {
    text = '';
    override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void) {
      this.text += chunk.toString();
      cb();
    }
  })();
  const base = process.platform === 'linux' ? threadNiceness(process.pid) : 0;
  const gw = await startGatewatch(
    validateConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', upstream: upstream.url, inspection: { enabled: false, niceness: 7 } }),
    { stdout, logger: createLogger({ level: 'silent' }) },
  );
  try {
    assert.equal(gw.detectorCount, 0);
    if (process.platform === 'linux' && base + 7 <= 19) assert.deepEqual(threadsAt(base + 7), [], 'no thread at the inspection niceness');
    const key = sample('github-pat-classic', mulberry32(3));
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `my token is ${key} ${'x'.repeat(200_000)}` }] });
    const reply = await send(`http://127.0.0.1:${gw.proxyAddress.port}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(reply.status, 200);
    assert.equal(received[0]!.toString(), body, 'the body arrives whole');
    await sleep(100);
    const metrics = await (await fetch(`http://127.0.0.1:${gw.adminAddress.port}/metrics`)).text();
    assert.doesNotMatch(metrics, /^gatewatch_findings_total\{/m);
    assert.match(metrics, /^gatewatch_requests_total\{[^}]*provider="uninspected"[^}]*status="200"[^}]*\} 1$/m, 'the request is still counted');
    assert.equal(stdout.text, '', 'no alert');
  } finally {
    await gw.close(2000);
    await upstream.close();
  }
});
