import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CapturedExchange } from '../inspect/captured.js';
import type { Logger } from '../log.js';
import { listen } from '../net/listen.js';
import type { Metrics } from '../telemetry/metrics.js';
import { createBodyGc } from './body-gc.js';
import { createForwarder, type ForwardFailure, type ForwarderOptions, type ForwardHooks } from './forward.js';
import type { Route, RouteTable } from './routes.js';
import { CaptureBuffer } from './tap.js';
import { createWebSocketRelay, type WebSocketRelayOptions } from './websocket.js';

// The proxy listener: every request is forwarded at once and, beside the
// forwarded stream, teed into bounded capture buffers if inspection would
// take it (when it is busy or off, nothing is copied). When the exchange is
// over (finished, failed or aborted) the capture is handed to inspection and
// the proxy moves on; nothing here ever waits for a detector.

export interface ProxyOptions {
  readonly routes: RouteTable;
  readonly forwarding: Omit<ForwarderOptions, 'clientKeepAliveMs'>;
  readonly maxRequestBytes: number;
  readonly maxResponseBytes: number;
  readonly websocket: Omit<WebSocketRelayOptions, 'routes' | 'onCaptured' | 'metrics' | 'logger'>;
  /** Receives each finished exchange; must return at once. */
  readonly onCaptured: (captured: CapturedExchange) => void;
  /** Asked as each exchange starts: false when inspection would drop it, which then goes uncaptured. Default: always. */
  readonly admits?: () => boolean;
  /** Receives each finished exchange that went uncaptured because admits() said no. */
  readonly onSkipped?: (exchange: Pick<CapturedExchange, 'route' | 'status'>) => void;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface ProxyServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<{ host: string; port: number }>;
  /** Stops accepting, lets in-flight exchanges finish until the deadline, then cuts the rest. */
  close(deadlineMs?: number): Promise<void>;
}

// An idle client connection stays open this long: longer than the 60 s idle
// timeout of common load balancers, so they close it first, never gatewatch
// in the middle of their next request.
const CLIENT_KEEP_ALIVE_MS = 61_000;

/** What every exchange of one server shares: its in-flight records point here instead of closing over it. */
interface ExchangeContext {
  readonly maxResponseBytes: number;
  readonly countChunk: (chunk: Buffer) => void;
  readonly onFailure: (ex: InFlight, reason: ForwardFailure) => void;
  readonly onClose: (ex: InFlight) => void;
}

/** One exchange in flight; the forwarder's hooks, as methods. */
class InFlight implements ForwardHooks {
  readonly start = Date.now();
  readonly startHr = performance.now();
  /** Undefined when inspection would not take the exchange: its bodies are then not captured. */
  readonly requestTap: CaptureBuffer | undefined;
  responseTap: CaptureBuffer | undefined;
  status = 0;
  firstByte: number | undefined;
  responseHeaders: IncomingMessage['headers'] = {};
  constructor(
    private readonly context: ExchangeContext,
    readonly req: IncomingMessage,
    readonly url: string,
    readonly route: Route,
    maxRequestBytes: number | undefined,
  ) {
    this.requestTap = maxRequestBytes === undefined ? undefined : new CaptureBuffer(maxRequestBytes);
  }

  /** Counts each chunk of the request body and, when there is a tap, keeps it there. */
  watchRequestBody(): void {
    const countChunk = this.context.countChunk;
    const tap = this.requestTap;
    this.req.on(
      'data',
      tap === undefined
        ? countChunk
        : (chunk: Buffer) => {
            countChunk(chunk);
            tap.push(chunk);
          },
    );
  }

  onResponse(proxyRes: IncomingMessage): void {
    this.status = proxyRes.statusCode ?? 0;
    this.firstByte = Date.now();
    this.responseHeaders = proxyRes.headers;
    // Captured only when the request is.
    if (this.requestTap !== undefined) this.responseTap = new CaptureBuffer(this.context.maxResponseBytes);
  }

  onResponseChunk(chunk: Buffer): void {
    this.context.countChunk(chunk);
    this.responseTap?.push(chunk);
  }

  onFailure(reason: ForwardFailure): void {
    this.context.onFailure(this, reason);
  }

  onClose(): void {
    this.context.onClose(this);
  }
}

export function createProxyServer(opts: ProxyOptions): ProxyServer {
  const { routes, metrics, logger } = opts;
  const forwarder = createForwarder({ ...opts.forwarding, clientKeepAliveMs: CLIENT_KEEP_ALIVE_MS });
  const bodyGc = createBodyGc();
  if (!bodyGc.active) logger.warn('V8 gc() unavailable: large bodies are freed on V8\'s own schedule, and resident memory may grow by tens of MB while one passes');
  // Upgraded connections, which the HTTP server no longer tracks, to cut at the close deadline.
  // Only these: a Set with an entry per connection would keep every short connection's objects
  // alive past V8's young-generation collections (see IdleSweep in forward.ts).
  const upgraded = new Set<Socket>();
  const server = createServer({ noDelay: true, keepAliveTimeout: CLIENT_KEEP_ALIVE_MS });
  const ws = createWebSocketRelay({
    ...opts.websocket,
    routes,
    onCaptured: opts.onCaptured,
    metrics,
    logger,
  });

  // Series bound once per route (and the http kind), not looked up by attributes per request.
  const httpConnections = metrics.activeConnections.bind({ kind: 'http' });
  const routeSeries = new WeakMap<Route, { added: { record(v: number): void }; upstream: { record(v: number): void } }>();
  const seriesOf = (route: Route) => {
    let s = routeSeries.get(route);
    if (!s) {
      const attributes = { route: metrics.routeLabel.limit(route.name) };
      s = { added: metrics.addedLatency.bind(attributes), upstream: metrics.upstreamLatency.bind(attributes) };
      routeSeries.set(route, s);
    }
    return s;
  };

  const admits = opts.admits ?? (() => true);
  const onSkipped = opts.onSkipped ?? (() => undefined);

  const finish = (ex: InFlight) => {
    if (ex.status !== 0) {
      seriesOf(ex.route).upstream.record((performance.now() - ex.startHr) / 1000);
    }
    const requestTap = ex.requestTap;
    if (requestTap === undefined) {
      onSkipped(ex);
      return;
    }
    const responseTap = ex.responseTap;
    const captured: CapturedExchange = {
      id: randomUUID(),
      kind: 'http',
      route: ex.route,
      method: ex.req.method ?? 'GET',
      url: ex.url,
      requestHeaders: ex.req.headers,
      responseHeaders: ex.responseHeaders,
      status: ex.status,
      remoteAddress: ex.req.socket.remoteAddress,
      requestBody: requestTap.take(),
      requestTruncated: requestTap.truncated,
      responseBody: responseTap ? responseTap.take() : Buffer.alloc(0),
      responseTruncated: responseTap ? responseTap.truncated : false,
      wsMessages: [],
      timings: { start: ex.start, ...(ex.firstByte !== undefined ? { firstByte: ex.firstByte } : {}), end: Date.now() },
    };
    opts.onCaptured(captured);
  };

  const context: ExchangeContext = {
    maxResponseBytes: opts.maxResponseBytes,
    countChunk: (chunk) => bodyGc.note(chunk.length),
    onFailure(ex, reason) {
      if (reason === 'client_aborted') return;
      metrics.upstreamErrors.add(1, { route: metrics.routeLabel.limit(ex.route.name), reason });
      logger.warn({ route: ex.route.name, reason, method: ex.req.method }, 'upstream request failed');
    },
    // 'close' comes once, whether the response finished, failed or the client left.
    onClose(ex) {
      httpConnections.add(-1);
      finish(ex);
    },
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const match = routes.match(url);
    const ex = new InFlight(context, req, url, match.route, admits() ? opts.maxRequestBytes : undefined);
    httpConnections.add(1);
    ex.watchRequestBody();
    forwarder.forward(req, res, match, ex);
    seriesOf(match.route).added.record((performance.now() - ex.startHr) / 1000);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    ws.handleUpgrade(req, socket, head);
  });

  // Malformed requests: answer as Node's HTTP server would, never crash.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  return {
    server,
    listen: (port, host) => listen(server, port, host),
    close(deadlineMs = 10_000) {
      return new Promise<void>((resolve) => {
        ws.close();
        server.close(() => {
          forwarder.close();
          bodyGc.close();
          resolve();
        });
        server.closeIdleConnections();
        const timer = setTimeout(() => {
          for (const s of upgraded) s.destroy();
          server.closeAllConnections();
        }, deadlineMs);
        timer.unref();
      });
    },
  };
}
