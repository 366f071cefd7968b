import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { createAdminServer, type AdminServer } from '../../src/admin/server.js';
import { createAlertsApi } from '../../src/admin/alerts-api.js';
import { createAlertsPage, UI_ASSETS_DIR } from '../../src/admin/ui/page.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { Alert } from '../../src/types.js';
import { send } from '../helpers/servers.js';
import { join } from 'node:path';

// The page's HTTP side without a browser: the auth rule (same as the alerts
// stream), security headers, the token relay for browsers' WebSockets, and
// assets that keep to the CSP (no inline code, no innerHTML).

const TOKEN = 'page-test-token-0123456789abcdef';

function fakePipeline() {
  const subscribers: WebSocket[] = [];
  return {
    subscribers,
    recent: (): Alert[] => [],
    silences: { list: () => [], add: () => { throw new Error('unused'); }, remove: () => false },
    stream: {
      subscribe(ws: WebSocket) {
        subscribers.push(ws);
        return true;
      },
    },
  };
}

async function startAdmin(guarded: boolean): Promise<{ admin: AdminServer; url: string; pipeline: ReturnType<typeof fakePipeline>; close(): Promise<void> }> {
  const pipeline = fakePipeline();
  const api = createAlertsApi({ pipeline: pipeline as never, ...(guarded ? { token: TOKEN } : {}), requireToken: guarded });
  const page = createAlertsPage({ ...(guarded ? { token: TOKEN } : {}), requireToken: guarded });
  const metrics = createMetrics();
  const admin = createAdminServer({ metrics, upstreams: [], extensions: [api, page] });
  const { port } = await admin.listen(0, '127.0.0.1');
  return {
    admin,
    url: `http://127.0.0.1:${port}`,
    pipeline,
    async close() {
      page.close();
      api.close();
      await admin.close();
      await metrics.shutdown();
    },
  };
}

describe('alerts page on loopback (no token)', () => {
  let s: Awaited<ReturnType<typeof startAdmin>>;
  before(async () => (s = await startAdmin(false)));
  after(() => s.close());

  test('/ redirects to /ui/ and the page is served with a strict CSP', async () => {
    const root = await send(`${s.url}/`);
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/ui/');
    const page = await send(`${s.url}/ui/`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.match(page.body.toString(), /<title>gatewatch/);
    const js = await send(`${s.url}/ui/app.js`);
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
  });

  test('unknown paths and other methods are not the page', async () => {
    assert.equal((await send(`${s.url}/ui/nope.js`)).status, 404);
    assert.equal((await send(`${s.url}/ui/`, { method: 'POST', body: 'x' })).status, 405);
  });
});

describe('alerts page off loopback (token required)', () => {
  let s: Awaited<ReturnType<typeof startAdmin>>;
  before(async () => (s = await startAdmin(true)));
  after(() => s.close());

  test('the page needs the token, by ?token= or bearer; a wrong one is refused', async () => {
    assert.equal((await send(`${s.url}/ui/`)).status, 401);
    assert.equal((await send(`${s.url}/ui/?token=wrong-token-0123456789`)).status, 401);
    assert.equal((await send(`${s.url}/ui/?token=${TOKEN}`)).status, 200);
    assert.equal((await send(`${s.url}/ui/`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    assert.equal((await send(`${s.url}/`)).headers.location, '/ui/');
    assert.equal((await send(`${s.url}/?token=abc`)).headers.location, '/ui/?token=abc');
  });

  test('/ui/stream relays the alert stream to a browser that offers the token as a subprotocol', async () => {
    const proto = `gatewatch.token.${Buffer.from(TOKEN).toString('base64url')}`;
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ui/stream`, [proto]);
    await once(ws, 'open');
    assert.equal(ws.protocol, proto);
    for (let i = 0; i < 50 && s.pipeline.subscribers.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.pipeline.subscribers.length, 1, 'relayed to /api/alerts/stream with the bearer token');
    const got = once(ws, 'message');
    s.pipeline.subscribers[0]!.send(JSON.stringify({ type: 'firing', alert: { id: 'a1' } }));
    assert.deepEqual(JSON.parse(String((await got)[0])), { type: 'firing', alert: { id: 'a1' } });
    ws.close();
  });

  test('/ui/stream without the token, or with a wrong one, is refused', async () => {
    for (const protocols of [[], [`gatewatch.token.${Buffer.from('wrong-token-0123456789').toString('base64url')}`]]) {
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ui/stream`, protocols);
      ws.on('error', () => undefined);
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, 401);
    }
  });
});

test('the assets keep to the CSP and never build HTML from strings', () => {
  const html = readFileSync(join(UI_ASSETS_DIR, 'index.html'), 'utf8');
  const js = readFileSync(join(UI_ASSETS_DIR, 'app.js'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handler');
  assert.doesNotMatch(html, /\sstyle\s*=/i, 'no inline style');
  assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
});
