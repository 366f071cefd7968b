import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { PROJECT_ROOT } from '../../paths.js';
import type { AdminExtension } from '../server.js';

// The live alerts page on the admin listener:
//   GET /            redirect to /ui/
//   GET /ui/         the page (guarded like the alerts API and stream)
//   GET /ui/app.js   its script and stylesheet (code only, no data: unguarded)
//   WS  /ui/stream   the alert stream for browsers, which cannot send an
//                    Authorization header on a WebSocket: the token comes as
//                    the subprotocol `gatewatch.token.<base64url>`, and the
//                    connection is relayed to /api/alerts/stream with a bearer.
// When no token is needed the page talks to /api/alerts/stream directly.

export const UI_ASSETS_DIR = join(PROJECT_ROOT, 'src', 'admin', 'ui', 'assets');

const TOKEN_PROTOCOL = 'gatewatch.token.';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly guarded: boolean;
}

function loadAssets(): ReadonlyMap<string, Asset> {
  const read = (name: string) => readFileSync(join(UI_ASSETS_DIR, name));
  const page: Asset = { type: 'text/html; charset=utf-8', body: read('index.html'), guarded: true };
  return new Map([
    ['/ui/', page],
    ['/ui/index.html', page],
    ['/ui/app.js', { type: 'text/javascript; charset=utf-8', body: read('app.js'), guarded: false }],
    ['/ui/app.css', { type: 'text/css; charset=utf-8', body: read('app.css'), guarded: false }],
  ]);
}

export function createAlertsPage(opts: { token?: string; requireToken: boolean }): AdminExtension & { close(): void } {
  const assets = loadAssets();
  const expected = opts.token ? digest(opts.token) : undefined;
  const guarded = opts.requireToken || expected !== undefined;
  const matches = (candidate: string | undefined): boolean => candidate !== undefined && expected !== undefined && timingSafeEqual(digest(candidate), expected);
  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (!guarded) return true;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return matches(bearer?.[1]) || matches(url.searchParams.get('token') ?? undefined);
  };

  const relay = new WebSocketServer({
    noServer: true,
    maxPayload: 1024,
    handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(TOKEN_PROTOCOL)) ?? false,
  });

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://admin');
      const path = url.pathname;
      if (path === '/' || path === '/ui') {
        if (req.method !== 'GET' && req.method !== 'HEAD') return false;
        res.writeHead(302, { location: `/ui/${url.search}`, 'cache-control': 'no-store' }).end();
        return true;
      }
      if (path === '/favicon.ico') {
        res.writeHead(204, { 'cache-control': 'max-age=86400' }).end();
        return true;
      }
      const asset = assets.get(path);
      if (!asset) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', ...SECURITY_HEADERS }).end();
        return true;
      }
      if (asset.guarded && !authorized(req, url)) {
        const body = 'unauthorized: open this page with ?token=<GATEWATCH_ADMIN_TOKEN> (or send it as a bearer token)\n';
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer', ...SECURITY_HEADERS }).end(body);
        return true;
      }
      res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : asset.body);
      return true;
    },

    handleUpgrade(req, socket: Duplex, head) {
      const path = new URL(req.url ?? '/', 'http://admin').pathname;
      if (path !== '/ui/stream') return false;
      const offered = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .find((p) => p.startsWith(TOKEN_PROTOCOL));
      const token = offered ? Buffer.from(offered.slice(TOKEN_PROTOCOL.length), 'base64url').toString('utf8') : undefined;
      if (!expected || !matches(token)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return true;
      }
      relay.handleUpgrade(req, socket, head, (client) => {
        const host = req.socket.localAddress ?? '127.0.0.1';
        const upstream = new WebSocket(`ws://${host.includes(':') ? `[${host}]` : host}:${req.socket.localPort}/api/alerts/stream`, {
          headers: { authorization: `Bearer ${token}` },
        });
        upstream.on('message', (data, isBinary) => {
          if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
        });
        const closeBoth = () => {
          client.close();
          upstream.close();
        };
        upstream.on('close', closeBoth);
        upstream.on('error', closeBoth);
        client.on('close', closeBoth);
        client.on('error', closeBoth);
      });
      return true;
    },

    close() {
      for (const ws of relay.clients) ws.terminate();
      relay.close();
    },
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
