import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import httpProxy from 'http-proxy';
import type { Route, RouteMatch } from './routes.js';

// The forwarding engine, kept behind this one module so it can be swapped.
// http-proxy streams bodies both ways as they arrive; this module adds what
// a sidecar needs around it: keep-alive agents, connect and idle timeouts,
// hop-by-hop header hygiene, clean-up when either side goes away, and a
// classification of failures into the status the client should see.

export type ForwardFailure = 'unreachable' | 'connect_timeout' | 'timeout' | 'reset' | 'client_aborted';

export interface ForwardHooks {
  /** The upstream answered: its response is about to stream to the client. */
  onResponse(proxyRes: IncomingMessage): void;
  /** Forwarding failed; when the client can still be answered, the forwarder has answered it. */
  onFailure(reason: ForwardFailure): void;
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
const RESPONSE_HOP_BY_HOP = ['proxy-connection', 'te', 'trailer'];

interface ForwardState {
  hooks: ForwardHooks;
  proxyReq?: ClientRequest;
  failure?: ForwardFailure;
  connectTimer?: NodeJS.Timeout;
  done: boolean;
}

const kState = Symbol('gatewatch.forward');
type StatefulRequest = IncomingMessage & { [kState]?: ForwardState };

// These run on every exchange: they delete only the headers present (a
// delete makes V8 rebuild the object) and skip parsing the usual
// `Connection: keep-alive` or `close`, which name no header.
function deleteNamedByConnection(headers: IncomingMessage['headers']): void {
  const listed = headers.connection;
  if (listed === undefined || listed === 'keep-alive' || listed === 'close') return;
  for (const name of listed.split(',')) {
    const n = name.trim().toLowerCase();
    if (n !== '' && n !== 'close' && n !== 'keep-alive' && n !== 'connection') delete headers[n];
  }
}

function stripRequestHopByHop(headers: IncomingMessage['headers']): void {
  deleteNamedByConnection(headers);
  if (headers.connection !== undefined) delete headers.connection;
  for (const name of REQUEST_HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
}

/**
 * The upstream's Connection and Keep-Alive are about gatewatch's connection
 * to it: an upstream closing its side must not close the client's. http-proxy
 * copies a Connection header it finds to the client, so the response's says
 * what this server does with the client's connection (for HTTP/1.0 clients
 * http-proxy sets it itself); overwritten rather than deleted, so the object
 * keeps its shape.
 */
function setResponseHopByHop(headers: IncomingMessage['headers'], keepAliveHint: string | undefined): void {
  deleteNamedByConnection(headers);
  for (const name of RESPONSE_HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
  if (keepAliveHint === undefined) {
    headers.connection = 'close';
    if (headers['keep-alive'] !== undefined) delete headers['keep-alive'];
  } else {
    headers.connection = 'keep-alive';
    headers['keep-alive'] = keepAliveHint;
  }
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

function settle(req: StatefulRequest, res: ServerResponse, reason: ForwardFailure): void {
  const state = req[kState];
  if (!state || state.done) return;
  state.done = true;
  state.failure ??= reason;
  if (state.connectTimer) clearTimeout(state.connectTimer);
  state.proxyReq?.destroy();
  if (state.failure !== 'client_aborted') respondWithFailure(res, state.failure);
  state.hooks.onFailure(state.failure);
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: 256, scheduling: 'lifo' as const };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent({ ...agentOptions, rejectUnauthorized: opts.rejectUnauthorized });
  const keepAliveHint = `timeout=${Math.floor(opts.clientKeepAliveMs / 1000)}`;
  const onProxyReq = (proxyReq: ClientRequest, req: IncomingMessage) => {
    const state = (req as StatefulRequest)[kState];
    if (!state) return;
    state.proxyReq = proxyReq;
    if (opts.hostHeader !== null) proxyReq.setHeader('host', opts.hostHeader);
    const socket = proxyReq.socket;
    if (socket) {
      socket.setNoDelay(true);
      if (socket.connecting) {
        state.connectTimer = setTimeout(() => {
          state.failure = 'connect_timeout';
          proxyReq.destroy();
        }, opts.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(state.connectTimer));
      }
    }
    proxyReq.setTimeout(opts.upstreamTimeoutMs, () => {
      state.failure ??= 'timeout';
      proxyReq.destroy();
    });
  };

  const onProxyRes = (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) => {
    const state = (req as StatefulRequest)[kState];
    if (!state) return;
    if (state.connectTimer) clearTimeout(state.connectTimer);
    setResponseHopByHop(proxyRes.headers, res.shouldKeepAlive && req.httpVersion !== '1.0' ? keepAliveHint : undefined);
    // A reset in the middle of the body: without this listener the error would be unhandled.
    proxyRes.on('error', () => settle(req as StatefulRequest, res, 'reset'));
    proxyRes.on('aborted', () => settle(req as StatefulRequest, res, 'reset'));
    state.hooks.onResponse(proxyRes);
  };

  // http-proxy calls this for errors of both the upstream request and the client request.
  const onError = (err: Error, req: IncomingMessage, res: ServerResponse | unknown) => {
    const r = req as StatefulRequest;
    const state = r[kState];
    if (!state) return;
    if (r.socket.destroyed && !state.failure) state.failure = 'client_aborted';
    settle(r, res as ServerResponse, classify(err as NodeJS.ErrnoException));
  };
  const onClientReset = (_err: Error, req: IncomingMessage, res: ServerResponse) => settle(req as StatefulRequest, res, 'client_aborted');

  // One http-proxy server per route, its options fixed: a request then
  // passes none of its own, which spares http-proxy copying the options and
  // parsing the target URL on every request.
  const proxies = new Map<Route, httpProxy>();
  const proxyFor = (route: Route): httpProxy => {
    let proxy = proxies.get(route);
    if (!proxy) {
      proxy = httpProxy.createProxyServer({
        xfwd: opts.xForwarded,
        ws: false,
        target: route.target.href,
        changeOrigin: !route.preserveHost,
        agent: route.target.protocol === 'https:' ? httpsAgent : httpAgent,
        secure: opts.rejectUnauthorized,
      });
      proxy.on('proxyReq', onProxyReq);
      proxy.on('proxyRes', onProxyRes);
      proxy.on('econnreset', onClientReset);
      proxy.on('error', onError);
      proxies.set(route, proxy);
    }
    return proxy;
  };

  return {
    forward(req, res, match, hooks) {
      const r = req as StatefulRequest;
      const state: ForwardState = { hooks, done: false };
      r[kState] = state;
      stripRequestHopByHop(req.headers);
      // Node's server has already answered `Expect: 100-continue` (any other expectation got 417),
      // so the body is on its way. Passed on, it would also make http-proxy skip its proxyReq
      // event, and with it the upstream timeout and the clean-up when the client leaves.
      if (req.headers.expect !== undefined) delete req.headers.expect;
      req.url = match.forwardPath;
      // The client went away before the response completed: free the upstream side too.
      res.once('close', () => {
        if (state.connectTimer) clearTimeout(state.connectTimer);
        if (!res.writableFinished) settle(r, res, 'client_aborted');
        else state.done = true;
      });
      proxyFor(match.route).web(req, res);
    },
    close() {
      for (const proxy of proxies.values()) proxy.close();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
