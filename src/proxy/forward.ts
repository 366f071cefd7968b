import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import httpProxy from 'http-proxy';
import { basePathOf, type Route, type RouteMatch } from './routes.js';

// The forwarding engine, kept behind this one module so it can be swapped.
// http-proxy streams bodies both ways as they arrive; this module adds what
// a sidecar needs around it: keep-alive agents, connect and idle timeouts,
// hop-by-hop header hygiene, clean-up when either side goes away, and a
// classification of failures into the status the client should see.

export type ForwardFailure = 'unreachable' | 'connect_timeout' | 'timeout' | 'reset' | 'client_aborted';

export interface ForwardHooks {
  /** The upstream answered: its response is about to stream to the client. */
  onResponse(proxyRes: IncomingMessage): void;
  /** A chunk of the upstream's response body, as it is written to the client. */
  onResponseChunk(chunk: Buffer): void;
  /** Forwarding failed; when the client can still be answered, the forwarder has answered it. */
  onFailure(reason: ForwardFailure): void;
  /** The client's response closed: finished, failed or abandoned by the client. Called once, last. */
  onClose(): void;
}

export interface ForwarderOptions {
  readonly xForwarded: boolean;
  readonly hostHeader: string | null;
  readonly upstreamTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxSockets: number;
  readonly rejectUnauthorized: boolean;
  /** How long the client's connection may idle between requests: announced to the client in its `Keep-Alive` response header. */
  readonly clientKeepAliveMs: number;
}

export interface Forwarder {
  forward(req: IncomingMessage, res: ServerResponse, match: RouteMatch, hooks: ForwardHooks): void;
  close(): void;
}

// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
// besides Connection itself and Keep-Alive, which a response gets anew.
// Upgrade leaves a response only when its Connection header names it (a
// 426 keeps the Upgrade it must send).
const REQUEST_HOP_BY_HOP = ['keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'];
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer']);

// One exchange's forwarding state. It rides on the client request, the
// upstream request and the upstream response (the client response finds it
// through `res.req`), so the listeners below are shared functions that find
// it from `this`, not closures made per request.
class Forwarding {
  proxyReq: ClientRequest | undefined = undefined;
  proxyRes: IncomingMessage | undefined = undefined;
  failure: ForwardFailure | undefined = undefined;
  connectTimer: NodeJS.Timeout | undefined = undefined;
  done = false;
  /** The upstream connection's byte count at the last sweep, and the sweeps since it last moved (see IdleSweep). */
  sweptBytes = -1;
  idleSweeps = 0;
  /** Its neighbours in the sweep's list, while it is in it. */
  sweepPrev: Forwarding | undefined = undefined;
  sweepNext: Forwarding | undefined = undefined;
  constructor(
    readonly res: ServerResponse,
    readonly hooks: ForwardHooks,
    readonly sweep: IdleSweep,
    /** The path to request from the upstream; undefined for a target that is not a path (`*`). */
    readonly upstreamPath: string | undefined,
  ) {}

  settle(reason: ForwardFailure): void {
    if (this.done) return;
    this.done = true;
    this.failure ??= reason;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.proxyReq?.destroy();
    if (this.failure !== 'client_aborted') respondWithFailure(this.res, this.failure);
    this.hooks.onFailure(this.failure);
  }
}

const kForwarding = Symbol('gatewatch.forwarding');
type Carrier = { [kForwarding]?: Forwarding };
const forwardingOf = (message: IncomingMessage | ClientRequest | undefined): Forwarding | undefined => (message as Carrier | undefined)?.[kForwarding];

// The client's response closed. Unfinished, the client went away first: free the upstream side too.
// Finished, the connect timer is already cleared: by the upstream's response or by settle().
function onClientClose(this: ServerResponse): void {
  const f = forwardingOf(this.req);
  if (!f) return;
  // Every exchange ends here, settled or not: the sweep lets go of it for good.
  f.sweep.forget(f);
  if (!this.writableFinished) f.settle('client_aborted');
  else f.done = true;
  f.hooks.onClose();
}

// A reset in the middle of the upstream's body (Node emits 'aborted' and then this error); without
// a listener the error would be unhandled.
function onUpstreamBodyError(this: IncomingMessage): void {
  forwardingOf(this)?.settle('reset');
}

// The upstream's body goes to the client chunk by chunk, as `pipe()` would
// send it, with backpressure, through one listener that also hands each
// chunk to the hooks. A pipe and the tap's own listener beside it put seven
// listeners on the two streams per exchange (and took six off again), and
// every chunk went to two of them; this puts two.
function relayChunk(this: IncomingMessage, chunk: Buffer): void {
  const f = forwardingOf(this);
  if (!f) return;
  f.hooks.onResponseChunk(chunk);
  // A chunk already on its way when the stream paused finds the wait for 'drain' set up.
  if (!f.res.write(chunk) && !this.isPaused()) {
    this.pause();
    f.res.once('drain', resumeUpstream);
  }
}

function resumeUpstream(this: ServerResponse): void {
  forwardingOf(this.req)?.proxyRes?.resume();
}

// The upstream's part is over: its connection goes back to the pool, and its timeout with it.
function relayEnd(this: IncomingMessage): void {
  const f = forwardingOf(this);
  if (!f) return;
  f.sweep.forget(f);
  f.res.end();
}

/**
 * The upstream timeout: a request fails when its upstream connection has
 * moved no byte, either way, for `timeoutMs`. One timer per forwarder looks
 * at every request in flight a tenth of the timeout apart (at most a second),
 * instead of a socket timer per request, which Node re-arms on every read
 * and write; a request then fails between `timeoutMs` and one sweep later.
 * As with Node's socket timeout, the time waiting for a connection does not
 * count (the connect timeout covers connecting).
 */
class IdleSweep {
  // The requests in flight, as a list threaded through their own records.
  // Not a Set: a Set's table is reallocated as entries come and go, and the
  // table it leaves behind points on to its successor. Once one of them is in
  // V8's old generation (a full collection, or one long request that leaves
  // the table untouched, put it there), every later table and the exchanges
  // it held outlive the young-generation collections, and each exchange's
  // whole graph (about 5 KB) is promoted until the next full collection.
  private head: Forwarding | undefined = undefined;
  private readonly sweepsToFail: number;
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    const intervalMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 10)));
    // A byte seen at one sweep may have moved just after the one before: one sweep more, never early.
    this.sweepsToFail = Math.ceil(timeoutMs / intervalMs) + 1;
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  watch(f: Forwarding): void {
    if (this.holds(f)) return;
    f.sweepNext = this.head;
    if (this.head) this.head.sweepPrev = f;
    this.head = f;
  }

  /** Unlinked, a finished exchange points to no other: nothing stays reachable through it. */
  forget(f: Forwarding): void {
    if (!this.holds(f)) return;
    const { sweepPrev: prev, sweepNext: next } = f;
    if (prev) prev.sweepNext = next;
    else this.head = next;
    if (next) next.sweepPrev = prev;
    f.sweepPrev = undefined;
    f.sweepNext = undefined;
  }

  private holds(f: Forwarding): boolean {
    return f.sweepPrev !== undefined || this.head === f;
  }

  private sweep(): void {
    for (let f = this.head, next: Forwarding | undefined; f; f = next) {
      next = f.sweepNext;
      const socket = f.proxyReq?.socket;
      if (!socket || socket.connecting) {
        f.idleSweeps = 0;
        continue;
      }
      const bytes = socket.bytesRead + socket.bytesWritten;
      if (bytes !== f.sweptBytes) {
        f.sweptBytes = bytes;
        f.idleSweeps = 0;
      } else if (++f.idleSweeps >= this.sweepsToFail) {
        this.forget(f);
        f.failure ??= 'timeout';
        f.proxyReq!.destroy();
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    while (this.head) this.forget(this.head);
  }
}

/**
 * The headers a Connection header names, besides the ones it always means.
 * Undefined for the usual `keep-alive` or `close`, which name none: these
 * run on every exchange.
 */
function namedByConnection(listed: string | undefined): string[] | undefined {
  if (listed === undefined || listed === 'keep-alive' || listed === 'close') return undefined;
  const named: string[] = [];
  for (const name of listed.split(',')) {
    const n = name.trim().toLowerCase();
    if (n !== '' && n !== 'close' && n !== 'keep-alive' && n !== 'connection') named.push(n);
  }
  return named;
}

// Deletes only the headers present: a delete makes V8 rebuild the object.
function stripRequestHopByHop(headers: IncomingMessage['headers']): void {
  const named = namedByConnection(headers.connection);
  if (named !== undefined) for (const n of named) delete headers[n];
  if (headers.connection !== undefined) delete headers.connection;
  for (const name of REQUEST_HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
}

const appendTo = (chain: string | undefined, value: string): string => (chain ? `${chain},${value}` : value);

/**
 * X-Forwarded-For, -Port and -Proto appended, X-Forwarded-Host set when
 * absent: what http-proxy's `xfwd` does, without its per-request closures.
 * The port is the one the Host header ends with (http-proxy took the first
 * `:digits` in it, which for `[::1]:8080` is 1). A WebSocket handshake's
 * protocol is `ws` or `wss`, as http-proxy sends it.
 */
export function appendForwardedHeaders(req: IncomingMessage, websocket = false): void {
  const headers = req.headers;
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const port = headers.host === undefined ? undefined : /:(\d+)$/.exec(headers.host)?.[1];
  const proto = websocket ? (encrypted ? 'wss' : 'ws') : encrypted ? 'https' : 'http';
  headers['x-forwarded-for'] = appendTo(headers['x-forwarded-for'] as string | undefined, req.socket.remoteAddress ?? '');
  headers['x-forwarded-port'] = appendTo(headers['x-forwarded-port'] as string | undefined, port ?? (encrypted ? '443' : '80'));
  headers['x-forwarded-proto'] = appendTo(headers['x-forwarded-proto'] as string | undefined, proto);
  if (headers['x-forwarded-host'] === undefined) headers['x-forwarded-host'] = headers.host ?? '';
}

/**
 * The upstream's response headers for the client, as the upstream sent them
 * (its names' case and repeated headers kept), less the ones about
 * gatewatch's connection to it: an upstream closing its side must not close
 * the client's. Connection and Keep-Alive then say what this server does
 * with the client's connection. An HTTP/1.0 client has no chunked encoding.
 */
function clientResponseHeaders(proxyRes: IncomingMessage, http10: boolean, keepAliveHint: string | undefined): string[] {
  const named = namedByConnection(proxyRes.headers.connection);
  const raw = proxyRes.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (RESPONSE_HOP_BY_HOP.has(name) || (http10 && name === 'transfer-encoding') || named?.includes(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  if (keepAliveHint === undefined) out.push('connection', 'close');
  else out.push('connection', 'keep-alive', 'keep-alive', keepAliveHint);
  return out;
}

const STATUS_FOR: Record<Exclude<ForwardFailure, 'client_aborted'>, number> = {
  unreachable: 502,
  connect_timeout: 502,
  reset: 502,
  timeout: 504,
};

const MESSAGE_FOR: Record<Exclude<ForwardFailure, 'client_aborted'>, string> = {
  unreachable: 'upstream unreachable',
  connect_timeout: 'upstream did not accept the connection in time',
  reset: 'upstream closed the connection before answering',
  timeout: 'upstream did not answer in time',
};

function respondWithFailure(res: ServerResponse, reason: Exclude<ForwardFailure, 'client_aborted'>): void {
  if (res.headersSent || res.destroyed) {
    // Part of the response is already on its way: the only honest signal left is to cut it.
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { type: 'gatewatch_upstream_error', code: reason, message: MESSAGE_FOR[reason] } });
  res.writeHead(STATUS_FOR[reason], {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-gatewatch-error': reason,
  });
  res.end(body);
}

function classify(err: NodeJS.ErrnoException): ForwardFailure {
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'reset';
  }
}

/** A route's http-proxy server, and the path its requests' paths are appended to (basePathOf). */
interface RouteProxy {
  readonly proxy: httpProxy;
  readonly basePath: string;
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: 256, scheduling: 'lifo' as const };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent({ ...agentOptions, rejectUnauthorized: opts.rejectUnauthorized });
  const keepAliveHint = `timeout=${Math.floor(opts.clientKeepAliveMs / 1000)}`;
  const sweep = new IdleSweep(opts.upstreamTimeoutMs);
  const onProxyReq = (proxyReq: ClientRequest, req: IncomingMessage) => {
    const f = forwardingOf(req);
    if (!f) return;
    f.proxyReq = proxyReq;
    if (f.upstreamPath !== undefined) proxyReq.path = f.upstreamPath;
    (proxyReq as Carrier)[kForwarding] = f;
    const socket = proxyReq.socket;
    if (socket) {
      socket.setNoDelay(true);
      if (socket.connecting) {
        f.connectTimer = setTimeout(() => {
          f.failure = 'connect_timeout';
          proxyReq.destroy();
        }, opts.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(f.connectTimer));
      }
    }
    sweep.watch(f);
  };

  // http-proxy leaves the response to this (`selfHandleResponse`): its own
  // passes set each header one call at a time, and lower-case their names.
  const onProxyRes = (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) => {
    const f = forwardingOf(req);
    if (!f) return;
    if (f.connectTimer) clearTimeout(f.connectTimer);
    f.proxyRes = proxyRes;
    (proxyRes as Carrier)[kForwarding] = f;
    proxyRes.on('error', onUpstreamBodyError);
    f.hooks.onResponse(proxyRes);
    if (res.headersSent) return;
    // An HTTP/1.0 client (ApacheBench with -k, for one) keeps its connection only for a body
    // of known length: 1.0 has no chunked encoding, so any other body ends with the connection.
    const http10 = req.httpVersion === '1.0';
    const keepAlive = res.shouldKeepAlive && (!http10 || proxyRes.headers['content-length'] !== undefined);
    const headers = clientResponseHeaders(proxyRes, http10, keepAlive ? keepAliveHint : undefined);
    if (proxyRes.statusMessage) res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, headers);
    else res.writeHead(proxyRes.statusCode ?? 502, headers);
    proxyRes.on('data', relayChunk);
    proxyRes.on('end', relayEnd);
  };

  // http-proxy calls this for errors of both the upstream request and the client request.
  const onError = (err: Error, req: IncomingMessage) => {
    const f = forwardingOf(req);
    if (!f) return;
    if (req.socket.destroyed && !f.failure) f.failure = 'client_aborted';
    f.settle(classify(err as NodeJS.ErrnoException));
  };
  const onClientReset = (_err: Error, req: IncomingMessage) => forwardingOf(req)?.settle('client_aborted');

  // One http-proxy server per route, its options fixed: a request then
  // passes none of its own, which spares http-proxy copying the options and
  // parsing the target URL on every request.
  const proxies = new Map<Route, RouteProxy>();
  const proxyFor = (route: Route): RouteProxy => {
    let routeProxy = proxies.get(route);
    if (!routeProxy) {
      const proxy = httpProxy.createProxyServer({
        ws: false,
        target: route.target.href,
        // The path is final (routes.ts makes it origin-form): spares http-proxy a legacy url.parse
        // of every request, which also rewrote some paths (a backslash into a slash, a quote escaped),
        // so the upstream answered another path than the one gatewatch classified.
        toProxy: true,
        selfHandleResponse: true,
        changeOrigin: !route.preserveHost && opts.hostHeader === null,
        ...(opts.hostHeader === null ? {} : { headers: { host: opts.hostHeader } }),
        agent: route.target.protocol === 'https:' ? httpsAgent : httpAgent,
        secure: opts.rejectUnauthorized,
      });
      proxy.on('proxyReq', onProxyReq);
      proxy.on('proxyRes', onProxyRes);
      proxy.on('econnreset', onClientReset);
      proxy.on('error', onError);
      routeProxy = { proxy, basePath: basePathOf(route) };
      proxies.set(route, routeProxy);
    }
    return routeProxy;
  };

  return {
    forward(req, res, match, hooks) {
      const { proxy, basePath } = proxyFor(match.route);
      // Set again on the upstream request: http-proxy joins the two paths collapsing every `//`
      // (and making `http:/` in a path `http://`), and the upstream must get the path inspected.
      const upstreamPath = match.forwardPath[0] === '/' ? basePath + match.forwardPath : undefined;
      (req as Carrier)[kForwarding] = new Forwarding(res, hooks, sweep, upstreamPath);
      stripRequestHopByHop(req.headers);
      // Node's server has already answered `Expect: 100-continue` (any other expectation got 417),
      // so the body is on its way. Passed on, it would also make http-proxy skip its proxyReq
      // event, and with it the upstream timeout and the clean-up when the client leaves.
      if (req.headers.expect !== undefined) delete req.headers.expect;
      if (opts.xForwarded) appendForwardedHeaders(req);
      req.url = match.forwardPath;
      res.on('close', onClientClose); // emitted once
      proxy.web(req, res);
    },
    close() {
      for (const { proxy } of proxies.values()) proxy.close();
      sweep.close();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
