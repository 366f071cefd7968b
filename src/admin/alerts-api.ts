import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { AlertPipeline } from '../alerts/pipeline.js';
import type { SilenceSpec } from '../alerts/config.js';
import { isGatewatchError } from '../errors.js';

// The alerts part of the admin listener:
//   GET    /api/alerts?limit=N     recent alerts, newest first
//   GET    /api/silences           active silences
//   POST   /api/silences           add one: {"detector"?, "identity"?, "route"?, "until"?, "comment"?}
//   DELETE /api/silences/<id>      remove one
//   WS     /api/alerts/stream      one JSON text message per notification
// A bearer token guards all of it when required (admin listener off
// loopback) or whenever one is configured.

export interface AlertsApiOptions {
  readonly pipeline: Pick<AlertPipeline, 'recent' | 'silences' | 'stream'>;
  readonly token?: string;
  readonly requireToken: boolean;
}

export interface AlertsApi {
  /** True when the request was for this API (and has been answered). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** True when the upgrade was for the stream (and has been taken or refused). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

const DEFAULT_LIMIT = 100;
const MAX_BODY_BYTES = 16 * 1024;
const TRY_AGAIN_LATER = 1013;

export function createAlertsApi(opts: AlertsApiOptions): AlertsApi {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const expected = opts.token ? digest(opts.token) : undefined;
  const guarded = opts.requireToken || expected !== undefined;

  const authorized = (req: IncomingMessage): boolean => {
    if (!guarded) return true;
    if (!expected) return false; // required, but no token configured: nobody gets in
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]!), expected);
  };

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://admin');
      const path = url.pathname;
      if (path !== '/api/alerts' && path !== '/api/silences' && !path.startsWith('/api/silences/')) return false;
      if (!authorized(req)) {
        send(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
        return true;
      }
      if (path === '/api/alerts') {
        if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
        const raw = url.searchParams.get('limit');
        const limit = raw === null ? DEFAULT_LIMIT : Number.parseInt(raw, 10);
        if (!Number.isFinite(limit) || limit < 0) return send(res, 400, { error: 'limit must be a non-negative integer' });
        return send(res, 200, opts.pipeline.recent(limit));
      }
      if (path === '/api/silences') {
        if (req.method === 'GET') return send(res, 200, opts.pipeline.silences.list());
        if (req.method === 'POST') {
          readJson(req, (err, body) => {
            if (err) return void send(res, err === 'too_large' ? 413 : 400, { error: err === 'too_large' ? 'body too large' : 'body must be JSON' });
            try {
              send(res, 201, opts.pipeline.silences.add(body as SilenceSpec, 'api'));
            } catch (e) {
              if (isGatewatchError(e)) send(res, 400, { error: e.message.split('\n')[0], problems: e.problems });
              else send(res, 500, { error: 'internal error' });
            }
          });
          return true;
        }
        return methodNotAllowed(res, 'GET, POST');
      }
      if (req.method !== 'DELETE') return methodNotAllowed(res, 'DELETE');
      const id = decodeURIComponent(path.slice('/api/silences/'.length));
      return opts.pipeline.silences.remove(id) ? send(res, 204, undefined) : send(res, 404, { error: 'no such silence' });
    },

    handleUpgrade(req, socket, head) {
      const path = new URL(req.url ?? '/', 'http://admin').pathname;
      if (path !== '/api/alerts/stream') return false;
      if (!authorized(req)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (!opts.pipeline.stream.subscribe(ws)) ws.close(TRY_AGAIN_LATER, 'too many subscribers');
      });
      return true;
    },

    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

function digest(token: string): Buffer {
  // Comparing fixed-length digests keeps timingSafeEqual from leaking the token's length.
  return createHash('sha256').update(token).digest();
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return true;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(text);
  return true;
}

function methodNotAllowed(res: ServerResponse, allow: string): true {
  return send(res, 405, { error: 'method not allowed' }, { allow });
}

function readJson(req: IncomingMessage, done: (err: 'too_large' | 'invalid' | undefined, body?: unknown) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  req.on('data', (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      finished = true;
      done('too_large');
      req.resume();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (finished) return;
    finished = true;
    try {
      done(undefined, JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      done('invalid');
    }
  });
  req.on('error', () => {
    if (!finished) {
      finished = true;
      done('invalid');
    }
  });
}
