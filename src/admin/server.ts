import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { listen } from '../net/listen.js';
import type { Metrics } from '../telemetry/metrics.js';

// The admin listener: health, readiness, Prometheus metrics, and whatever
// extensions (alerts API, live page) are mounted on it.

export interface AdminExtension {
  /** True when it answered the request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** True when it took the upgrade. */
  handleUpgrade?(req: IncomingMessage, socket: Socket, head: Buffer): boolean;
}

export interface AdminOptions {
  readonly metrics: Metrics;
  /** Upstreams whose reachability decides /readyz. */
  readonly upstreams: readonly URL[];
  readonly extensions?: readonly AdminExtension[];
  /** Extra readiness condition (e.g. configuration loaded). */
  readonly ready?: () => boolean;
  readonly probeTimeoutMs?: number;
  readonly probeCacheMs?: number;
}

export interface AdminServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

function defaultPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
}

function probe(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket = connect({ host, port: defaultPort(url) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function createAdminServer(opts: AdminOptions): AdminServer {
  const probeTimeoutMs = opts.probeTimeoutMs ?? 1000;
  const probeCacheMs = opts.probeCacheMs ?? 2000;
  let lastProbe = 0;
  let lastResult: Promise<Array<{ upstream: string; reachable: boolean }>> | undefined;
  const extensions = opts.extensions ?? [];

  const readiness = () => {
    const now = Date.now();
    if (!lastResult || now - lastProbe > probeCacheMs) {
      lastProbe = now;
      lastResult = Promise.all(opts.upstreams.map(async (u) => ({ upstream: u.origin, reachable: await probe(u, probeTimeoutMs) })));
    }
    return lastResult;
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/healthz') return json(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        void readiness().then((checks) => {
          const ok = checks.every((c) => c.reachable) && (opts.ready?.() ?? true);
          json(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', upstreams: checks });
        });
        return;
      }
      if (path === '/metrics') return opts.metrics.handlePrometheus(req, res);
    }
    for (const ext of extensions) if (ext.handle(req, res)) return;
    json(res, 404, { error: 'not found' });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    for (const ext of extensions) if (ext.handleUpgrade?.(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  return {
    server,
    listen: (port, host) => listen(server, port, host),
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
