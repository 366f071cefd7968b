import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { startGatewatch, type Gatewatch } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { createFingerprinter } from '../../src/fingerprint.js';
import { createLogger } from '../../src/log.js';
import { send, sleep, startUpstream } from '../helpers/servers.js';

// Shared pieces of the hardening suite: a recording upstream (what exactly
// arrived, byte for byte), the whole sidecar in-process with every output
// collected, a raw TCP client for malformed HTTP, and the leak check.

/** Fake but well-formed secrets, built at run time so the repository holds none. */
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randomAlnum(length: number, alphabet = ALNUM): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}
export const fakeAwsId = () => 'AKIA' + randomAlnum(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
export const fakeGithubToken = () => 'ghp_' + randomAlnum(36);
export const fakeOpenAiProjectKey = () => 'sk-proj-' + randomAlnum(64);
/** What must never appear in an output: the body of the secret (its public prefix may). */
export const secretBody = (secret: string) => secret.slice(Math.max(4, secret.length - 16));

export class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    // Bound it: hostile tests push a lot of traffic through.
    if (this.text.length > 8 * 1024 * 1024) this.text = this.text.slice(-4 * 1024 * 1024);
    cb();
  }
}

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  /** Bytes received; `body` is only kept up to `keepBytes`. */
  readonly size: number;
  /** sha256 (hex) of every body byte received. */
  readonly sha256: string;
}

/** Everything a test started and has not closed yet: closed by `closeLeftovers` so a failed test cannot hang the run. */
const open = new Set<() => Promise<void>>();
function track(close: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => {
    open.delete(once);
    done ??= close();
    return done;
  };
  open.add(once);
  return once;
}

/** Call from a file-level `after`: closes whatever a failing test left open. */
export async function closeLeftovers(): Promise<void> {
  await Promise.allSettled([...open].map((c) => c()));
}

/** Requests to this path are answered but not recorded (liveness probes between checks). */
export const PROBE_PATH = '/_hardening/probe';

export interface RecordingUpstream {
  readonly server: Server;
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  /** Resolves with the next request the upstream finished reading. */
  next(): Promise<Received>;
  close(): Promise<void>;
}

/**
 * An upstream that records every request and answers with `respond`
 * (default: 200 JSON echoing the received byte count).
 */
export async function startRecordingUpstream(
  respond?: (r: Received, res: ServerResponse, req: IncomingMessage) => void,
  keepBytes = 16 * 1024 * 1024,
): Promise<RecordingUpstream> {
  const received: Received[] = [];
  const waiters: Array<(r: Received) => void> = [];
  const handler: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let kept = 0;
    const hash = createHash('sha256');
    req.on('data', (c: Buffer) => {
      size += c.length;
      hash.update(c);
      if (kept < keepBytes) {
        const piece = c.subarray(0, keepBytes - kept);
        chunks.push(piece);
        kept += piece.length;
      }
    });
    req.on('end', () => {
      if (req.url === PROBE_PATH) return void res.end('{}');
      const r: Received = { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, headers: req.headers, body: Buffer.concat(chunks), size, sha256: hash.digest('hex') };
      const w = waiters.shift();
      if (w) w(r);
      else received.push(r);
      if (respond) respond(r, res, req);
      else {
        const text = JSON.stringify({ received: size });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }
    });
  };
  const { server, port, close } = await startUpstream(handler, { maxHeaderSize: 64 * 1024 });
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    next: () => {
      const r = received.shift();
      return r ? Promise.resolve(r) : new Promise((resolve) => waiters.push(resolve));
    },
    close: track(close),
  };
}

export const FINGERPRINT_KEY = 'hardening-fingerprint-key-0123456789';
/** The fingerprint the sidecar gives `secret`: how a test recognizes the alert about it. */
export const fingerprintOf = createFingerprinter(FINGERPRINT_KEY);

export interface AlertJson {
  readonly detector: string;
  readonly evidence: ReadonlyArray<{ location: string; fingerprint?: string }>;
  readonly identity: { key_fingerprint?: string };
}

export async function recentAlerts(sidecar: Sidecar): Promise<AlertJson[]> {
  return JSON.parse((await send(`${sidecar.adminUrl}/api/alerts?limit=500`)).body.toString()) as AlertJson[];
}

/** Waits for an alert whose evidence is `secret` (by fingerprint); returns it. */
export async function waitForSecretAlert(sidecar: Sidecar, secret: string, what: string, timeoutMs = 5000): Promise<AlertJson> {
  const fp = fingerprintOf(secret);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await recentAlerts(sidecar);
    const found = list.find((a) => a.evidence.some((e) => e.fingerprint === fp));
    if (found) return found;
    if (Date.now() > deadline) assert.fail(`no alert about the secret in ${what}; got ${JSON.stringify(list.map((a) => a.detector))}`);
    await sleep(30);
  }
}

export interface Sidecar {
  readonly gw: Gatewatch;
  readonly url: string;
  readonly port: number;
  readonly adminUrl: string;
  readonly stdout: Collector;
  readonly logs: Collector;
  close(): Promise<void>;
}

export async function startSidecar(upstream: string, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<Sidecar> {
  const stdout = new Collector();
  const logs = new Collector();
  const config = validateConfig({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    upstream,
    fingerprintKey: FINGERPRINT_KEY,
    ...extra,
    alerts: { groupWindowMs: 100, ...((extra.alerts as object | undefined) ?? {}) },
  });
  const gw = await startGatewatch(config, { stdout, logger: createLogger({ level: 'debug', destination: logs }), env });
  return {
    gw,
    port: gw.proxyAddress.port,
    url: `http://127.0.0.1:${gw.proxyAddress.port}`,
    adminUrl: `http://127.0.0.1:${gw.adminAddress.port}`,
    stdout,
    logs,
    close: track(() => gw.close(2000)),
  };
}

/**
 * Headers as the upstream saw them, without the ones a proxy adds or sets by
 * design (X-Forwarded-*, hop-by-hop, Host: the client's own Host is kept, and
 * that names the sidecar), in a stable order (field order between different
 * names carries no meaning; the order of repeated names is kept).
 */
export function comparableHeaders(r: Received): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const name = r.rawHeaders[i]!.toLowerCase();
    if (name.startsWith('x-forwarded-') || name === 'connection' || name === 'keep-alive' || name === 'host') continue;
    out.push([name, r.rawHeaders[i + 1]!]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Sends the same request directly and through the sidecar; asserts the upstream saw the same thing both times. */
export async function assertTransparent(
  upstream: RecordingUpstream,
  sidecarUrl: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<{ direct: Received; proxied: Received }> {
  const direct = upstream.next();
  const d = await send(upstream.url + path, { method: opts.method ?? 'POST', ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.body !== undefined ? { body: opts.body } : {}) });
  const directReceived = await direct;
  const proxied = upstream.next();
  const p = await send(sidecarUrl + path, { method: opts.method ?? 'POST', ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.body !== undefined ? { body: opts.body } : {}) });
  const proxiedReceived = await proxied;
  assert.equal(p.status, d.status, 'the client sees the upstream status');
  assert.deepEqual(p.body, d.body, 'the client sees the upstream body');
  assert.equal(proxiedReceived.method, directReceived.method);
  assert.equal(proxiedReceived.url, directReceived.url);
  assert.equal(proxiedReceived.size, directReceived.size, 'same number of body bytes');
  assert.equal(proxiedReceived.sha256, directReceived.sha256, 'same body bytes (hash)');
  assert.ok(proxiedReceived.body.equals(directReceived.body), 'same body bytes');
  assert.deepEqual(comparableHeaders(proxiedReceived), comparableHeaders(directReceived), 'same headers modulo X-Forwarded-*');
  assert.equal(proxiedReceived.headers.host, new URL(sidecarUrl).host, "the client's Host is kept");
  return { direct: directReceived, proxied: proxiedReceived };
}

/** A well-formed request still goes through: the sidecar is serving. */
export async function assertServing(sidecar: Sidecar): Promise<void> {
  const reply = await send(`${sidecar.url}${PROBE_PATH}`);
  assert.equal(reply.status, 200, 'the sidecar still serves');
  const health = await send(`${sidecar.adminUrl}/healthz`);
  assert.equal(health.status, 200, 'the admin listener still answers');
}

/** Every output of the sidecar: logs, stdout alerts, the alerts API and /metrics. */
export async function outputs(sidecar: Sidecar): Promise<Record<string, string>> {
  const metrics = (await send(`${sidecar.adminUrl}/metrics`)).body.toString();
  const api = (await send(`${sidecar.adminUrl}/api/alerts?limit=500`)).body.toString();
  return { logs: sidecar.logs.text, stdout: sidecar.stdout.text, metrics, api };
}

export async function assertNoLeak(sidecar: Sidecar, secrets: readonly string[]): Promise<void> {
  await sleep(100);
  for (const [name, text] of Object.entries(await outputs(sidecar))) {
    for (const s of secrets) assert.ok(!text.includes(secretBody(s)), `${name} holds the body of a secret`);
  }
}

export interface RawReply {
  readonly text: string;
  readonly status: number;
  /** True when the server closed the connection. */
  readonly closed: boolean;
}

/** Writes raw bytes on a fresh TCP connection and collects the answer until close or `waitMs` of silence. */
export async function rawExchange(port: number, payload: Buffer | string | Array<Buffer | string>, waitMs = 500): Promise<RawReply> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const parts = Array.isArray(payload) ? payload : [payload];
  let text = '';
  let closed = false;
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  const ended = new Promise<void>((resolve) => {
    socket.once('close', () => {
      closed = true;
      resolve();
    });
    socket.on('error', () => undefined);
  });
  for (const p of parts) {
    if (socket.destroyed) break;
    socket.write(p);
  }
  let lastLength = -1;
  // Wait for close, or for the answer to stop growing.
  for (let waited = 0; !closed && waited < 10_000; waited += waitMs) {
    await Promise.race([ended, sleep(waitMs)]);
    if (text.length > 0 && text.length === lastLength) break;
    lastLength = text.length;
  }
  socket.destroy();
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return { text, status: m ? Number(m[1]) : 0, closed };
}

/** A loopback port with nothing listening on it (a dead collector, a dead Slack). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sums every sample of a Prometheus metric whose line starts with `name` (optionally only lines containing `filter`). */
export function metricSum(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name) || !line.includes(filter)) continue;
    sum += Number(line.split(' ').pop());
  }
  return sum;
}
