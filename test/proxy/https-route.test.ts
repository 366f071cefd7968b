import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { send } from '../helpers/servers.js';
import { requireTool } from '../helpers/tools.js';
import { startTestProxy } from './harness.js';

// Egress mode: a route whose upstream is https, as when the gateway's
// provider base URL points at gatewatch.

test('an https upstream route forwards with the upstream Host and verifies the certificate', async (t) => {
  const openssl = requireTool(t, 'openssl', 'apt-get install openssl');
  if (!openssl) return;
  const dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
  try {
    execFileSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, host: req.headers.host }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const routes = [{ prefix: '/openai', upstream: `https://127.0.0.1:${port}`, stripPrefix: true, provider: 'openai' as const, direction: 'egress' as const }];

    // Self-signed: refused while certificates are verified...
    const strict = await startTestProxy('http://127.0.0.1:1', { routes });
    const refused = await send(`${strict.url}/openai/v1/models`);
    assert.equal(refused.status, 502);
    await strict.close();

    // ...and forwarded when verification is off for this test upstream.
    const lax = await startTestProxy('http://127.0.0.1:1', { routes, rejectUnauthorized: false });
    const reply = await send(`${lax.url}/openai/v1/chat/completions?x=1`, { method: 'POST', body: '{}', headers: { host: 'gateway.internal' } });
    assert.equal(reply.status, 200);
    const echo = JSON.parse(reply.body.toString());
    assert.equal(echo.url, '/v1/chat/completions?x=1');
    assert.equal(echo.host, `127.0.0.1:${port}`, 'https routes send the upstream Host (SNI and virtual hosting)');
    const c = await lax.nextCapture();
    assert.equal(c.route.direction, 'egress');
    assert.equal(c.route.provider, 'openai');
    await lax.close();
    server.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
