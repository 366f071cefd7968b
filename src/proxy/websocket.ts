import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { CapturedExchange } from '../inspect/captured.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { WsMessage } from '../types.js';
import { appendForwardedHeaders } from './forward.js';
import { basePathOf, type RouteTable } from './routes.js';

// WebSocket relay (e.g. the OpenAI Realtime API). The upstream handshake is
// done first so the client gets the upstream's answer: its subprotocol, or
// its refusal status. Then frames are relayed both ways as they come — text
// and binary, ping and pong, close codes — and copies of the messages are
// batched into captured exchanges for inspection.

export interface WebSocketRelayOptions {
  readonly routes: RouteTable;
  readonly onCaptured: (captured: CapturedExchange) => void;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
  readonly rejectUnauthorized: boolean;
  readonly xForwarded: boolean;
  readonly maxMessageBytes: number;
  /** Max payload of a single message the relay accepts (default 100 MiB, as a plain ws server). */
  readonly maxPayloadBytes?: number;
  /** Inspection batches: flush after this many messages or this long. */
  readonly batchMessages?: number;
  readonly batchMs?: number;
}

export interface WebSocketRelay {
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  close(): void;
}

const HANDSHAKE_HEADERS = new Set([
  'host',
  'connection',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
]);

// Close codes that describe what happened but may not be sent in a close frame.
const UNSENDABLE = new Set([1004, 1005, 1006, 1015]);
const HIGH_WATER = 4 * 1024 * 1024;

function rejectHandshake(socket: Socket, status: number, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { type: 'gatewatch_upstream_error', message } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 504 ? 'Gateway Timeout' : 'Bad Gateway'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function forwardRefusal(socket: Socket, res: IncomingMessage): void {
  let head = `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i]!;
    if (/^(connection|transfer-encoding|keep-alive)$/i.test(name)) continue;
    head += `${name}: ${res.rawHeaders[i + 1]}\r\n`;
  }
  socket.write(`${head}Connection: close\r\n\r\n`);
  res.pipe(socket);
  res.on('error', () => socket.destroy());
}

function closeOther(other: WebSocket, code: number, reason: Buffer): void {
  if (other.readyState === WebSocket.CLOSED || other.readyState === WebSocket.CLOSING) return;
  if (code === 1006) other.terminate();
  else if (UNSENDABLE.has(code) || other.readyState !== WebSocket.OPEN) other.close();
  else other.close(code, reason);
}

function messageText(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function createWebSocketRelay(opts: WebSocketRelayOptions): WebSocketRelay {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: true,
    autoPong: false,
    perMessageDeflate: false,
    maxPayload: opts.maxPayloadBytes ?? 100 * 1024 * 1024,
    handleProtocols: (_protocols, req) => (req as IncomingMessage & { negotiated?: string }).negotiated || false,
  });
  const upstreams = new Set<WebSocket>();
  const batchMessages = opts.batchMessages ?? 64;
  const batchMs = opts.batchMs ?? 1000;
  const { metrics, logger } = opts;

  return {
    handleUpgrade(req, socket, head) {
      const url = req.url ?? '/';
      const match = opts.routes.match(url);
      // The route's upstream with the path set on it. Resolved as a URL reference instead, a path
      // like `//elsewhere.example/x` would name another host to connect to.
      const target = new URL(match.route.target);
      target.protocol = match.route.target.protocol === 'https:' ? 'wss:' : 'ws:';
      const query = match.forwardPath.indexOf('?');
      target.pathname = basePathOf(match.route) + (query < 0 ? match.forwardPath : match.forwardPath.slice(0, query));
      target.search = query < 0 ? '' : match.forwardPath.slice(query);

      if (opts.xForwarded) appendForwardedHeaders(req, true);
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !HANDSHAKE_HEADERS.has(name)) headers[name] = value;
      }
      if (match.route.preserveHost && req.headers.host) headers.host = req.headers.host;
      const protocols = (req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);

      const upstream = new WebSocket(target.href, protocols, {
        headers,
        autoPong: false,
        perMessageDeflate: false,
        handshakeTimeout: opts.connectTimeoutMs,
        rejectUnauthorized: opts.rejectUnauthorized,
        maxPayload: opts.maxPayloadBytes ?? 100 * 1024 * 1024,
      });
      upstreams.add(upstream);
      let opened = false;
      const onEarlyClose = () => upstream.terminate();
      socket.once('close', onEarlyClose);
      socket.on('error', () => socket.destroy());

      upstream.once('unexpected-response', (_r, res) => {
        opened = true;
        socket.off('close', onEarlyClose);
        forwardRefusal(socket, res);
        upstreams.delete(upstream);
      });
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        if (opened) return;
        upstreams.delete(upstream);
        metrics.upstreamErrors.add(1, { route: metrics.routeLabel.limit(match.route.name), reason: 'websocket_handshake' });
        const timedOut = /timed out/i.test(err.message);
        rejectHandshake(socket, timedOut ? 504 : 502, timedOut ? 'upstream did not answer the WebSocket handshake in time' : 'upstream unreachable');
      });
      upstream.once('open', () => {
        opened = true;
        socket.off('close', onEarlyClose);
        if (socket.destroyed) {
          upstream.terminate();
          return;
        }
        (req as IncomingMessage & { negotiated?: string }).negotiated = upstream.protocol;
        wss.handleUpgrade(req, socket, head, (client) => relay(client, upstream, req, match.route));
      });
    },
    close() {
      for (const client of wss.clients) client.close(1001, 'gatewatch shutting down');
      for (const u of upstreams) u.close(1001, 'gatewatch shutting down');
      wss.close();
    },
  };

  function relay(client: WebSocket, upstream: WebSocket, req: IncomingMessage, route: CapturedExchange['route']): void {
    metrics.activeConnections.add(1, { kind: 'websocket' });
    const start = Date.now();
    let batch: WsMessage[] = [];
    let counter = 0;
    let timer: NodeJS.Timeout | undefined;

    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (batch.length === 0) return;
      const messages = batch;
      batch = [];
      opts.onCaptured({
        id: randomUUID(),
        kind: 'websocket',
        route,
        method: 'GET',
        url: req.url ?? '/',
        requestHeaders: req.headers,
        responseHeaders: {},
        status: 101,
        remoteAddress: req.socket.remoteAddress,
        requestBody: Buffer.alloc(0),
        requestTruncated: false,
        responseBody: Buffer.alloc(0),
        responseTruncated: messages.some((m) => m.text.length >= opts.maxMessageBytes),
        wsMessages: messages,
        timings: { start, end: Date.now() },
      });
    };

    const capture = (direction: WsMessage['direction'], data: RawData, binary: boolean) => {
      metrics.wsMessages.add(1, { direction });
      const bytes = messageText(data);
      const kept = bytes.length > opts.maxMessageBytes ? bytes.subarray(0, opts.maxMessageBytes) : bytes;
      batch.push({ direction, binary, path: `websocket.${direction}[${counter++}]`, text: kept.toString('utf8') });
      if (batch.length >= batchMessages) flush();
      else if (!timer) {
        timer = setTimeout(flush, batchMs);
        timer.unref();
      }
    };

    const pipe = (from: WebSocket, to: WebSocket, direction: WsMessage['direction']) => {
      from.on('message', (data, isBinary) => {
        if (to.readyState === WebSocket.OPEN) {
          to.send(data, { binary: isBinary });
          if (to.bufferedAmount > HIGH_WATER && !from.isPaused) {
            from.pause();
            const resumeWhenDrained = () => {
              if (to.bufferedAmount < HIGH_WATER / 2 || to.readyState !== WebSocket.OPEN) from.resume();
              else setTimeout(resumeWhenDrained, 5).unref();
            };
            setTimeout(resumeWhenDrained, 5).unref();
          }
        }
        capture(direction, data, isBinary);
      });
      from.on('ping', (data) => to.readyState === WebSocket.OPEN && to.ping(data));
      from.on('pong', (data) => to.readyState === WebSocket.OPEN && to.pong(data));
      from.on('close', (code, reason) => closeOther(to, code, reason));
      from.on('error', (err) => {
        logger.debug({ direction, err: { code: (err as NodeJS.ErrnoException).code } }, 'websocket error');
        to.terminate();
      });
    };

    pipe(client, upstream, 'client');
    pipe(upstream, client, 'upstream');
    client.once('close', () => {
      upstreams.delete(upstream);
      metrics.activeConnections.add(-1, { kind: 'websocket' });
      flush();
    });
  }
}
