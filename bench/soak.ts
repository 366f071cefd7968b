import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';
import { RUN_ENV, RUN_NODE_FLAGS } from '../src/node-flags.js';

// bench/soak: a sustained mixed load (JSON, SSE and WebSocket, with credential
// alerts firing) against a spawned `gatewatch run`, sampling the sidecar's RSS.
// The load runs --warmup-minutes first (JIT, pools, caches and the heap
// settle), then --minutes are measured with RSS sampled every
// --sample-seconds. Fails (exit 1) when any request failed, no alert fired,
// or the least-squares slope of the measured RSS samples is not under
// --max-slope MB/min.
//
//   node dist/bench/soak.js [--minutes 30] [--warmup-minutes 3] [--sample-seconds 60]
//                           [--max-slope 1] [--rate 60] [--out FILE]

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.js');

export interface SoakOptions {
  /** Measured minutes, after the warm-up. */
  readonly minutes: number;
  readonly sampleSeconds: number;
  /** Minutes of load before measuring starts. */
  readonly warmupMinutes: number;
  /** MB per minute; the post-warm-up RSS slope must stay below it. */
  readonly maxSlopeMbPerMin: number;
  /** Requests per second over all kinds. */
  readonly rate: number;
}

export interface RssSample {
  /** Minutes since measuring started (after the warm-up). */
  readonly minute: number;
  readonly rssMb: number;
}

export interface SoakResult {
  readonly options: SoakOptions;
  readonly samples: readonly RssSample[];
  readonly slopeMbPerMin: number;
  readonly counts: Readonly<Record<Kind, { ok: number; failed: number }>>;
  readonly alertLines: number;
  readonly failures: readonly string[];
  readonly passed: boolean;
}

type Kind = 'json' | 'sse' | 'websocket' | 'secret';

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

// Fake but well-formed keys, built at run time so the repository holds none.
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomText(length: number, alphabet = ALNUM): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}
const freshAwsId = () => 'AKIA' + randomText(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
const freshGithubToken = () => 'ghp_' + randomText(36);
// A small pool keeps the incident table realistic: the same leaks repeat.
const LEAK_POOL = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? freshAwsId() : freshGithubToken()));
const CLIENT_KEYS = Array.from({ length: 8 }, () => 'sk-proj-' + randomText(64));

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-soak',
  object: 'chat.completion',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Summary: three errors in the billing component. '.repeat(8) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 400, completion_tokens: 80, total_tokens: 480 },
});

function startUpstream(): Promise<{ server: Server; wss: WebSocketServer; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/v1/chat/completions') && req.headers['x-soak-stream'] === '1') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let i = 0;
        const tick = () => {
          if (i++ < 4) {
            res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `token ${i} ` } }] })}\n\n`);
            setTimeout(tick, 2);
          } else {
            res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 20, completion_tokens: 4, total_tokens: 24 } })}\n\n`);
            res.end('data: [DONE]\n\n');
          }
        };
        tick();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(COMPLETION) });
      res.end(COMPLETION);
    });
  });
  server.keepAliveTimeout = 65_000;
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) =>
      ws.on('message', (data) => ws.send(JSON.stringify({ type: 'response.output_text.done', text: `ack ${data.toString().length}` }))),
    ),
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, wss, port: (server.address() as AddressInfo).port })));
}

interface Sidecar {
  readonly child: ChildProcess;
  readonly proxyPort: number;
  readonly adminPort: number;
  alertLines(): number;
  exited(): Promise<number | null>;
}

async function startSidecar(upstreamPort: number, dir: string): Promise<Sidecar> {
  const config = join(dir, 'gatewatch.yaml');
  writeFileSync(
    config,
    [
      'listen: 127.0.0.1:0',
      'admin: 127.0.0.1:0',
      `upstream: http://127.0.0.1:${upstreamPort}`,
      'log: { level: warn }',
      'alerts: { groupWindowMs: 1000, sinks: { otel: { enabled: false } } }',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [...RUN_NODE_FLAGS, CLI, 'run', '--config', config], {
    env: { ...process.env, ...RUN_ENV, GATEWATCH_FINGERPRINT_KEY: 'soak-fingerprint-key-0123456789', GATEWATCH_LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  let alerts = 0;
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const ports = await new Promise<{ proxy: number; admin: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.includes('"gatewatch alert"')) alerts++;
      else if (line.includes('"gatewatch listening"')) {
        const msg = JSON.parse(line) as { proxy: string; admin: string };
        resolve({ proxy: Number(msg.proxy.split(':').pop()), admin: Number(msg.admin.split(':').pop()) });
      }
    });
    void exit.then((code) => reject(new Error(`gatewatch exited with ${code} before listening: ${stderr}`)));
  });
  return { child, proxyPort: ports.proxy, adminPort: ports.admin, alertLines: () => alerts, exited: () => exit };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

const REQUEST_TIMEOUT_MS = 30_000;

function httpRequest(agent: Agent, port: number, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;

function chatBody(content: string, stream: boolean): string {
  return JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'system', content: 'You are a log analyst.' }, { role: 'user', content }] });
}

async function oneJson(agent: Agent, port: number): Promise<string | undefined> {
  const r = await httpRequest(agent, port, { authorization: `Bearer ${pick(CLIENT_KEYS)}` }, chatBody('Summarize the errors by component. '.repeat(20), false));
  return r.status === 200 && r.text === COMPLETION ? undefined : `json: status ${r.status}, ${r.text.length} bytes`;
}

async function oneSecret(agent: Agent, port: number, fresh: boolean): Promise<string | undefined> {
  const leak = fresh ? freshAwsId() : pick(LEAK_POOL);
  const r = await httpRequest(agent, port, { authorization: `Bearer ${pick(CLIENT_KEYS)}` }, chatBody(`deploy failed, the config had ${leak} in it`, false));
  return r.status === 200 && r.text === COMPLETION ? undefined : `secret: status ${r.status}`;
}

async function oneSse(agent: Agent, port: number): Promise<string | undefined> {
  const r = await httpRequest(agent, port, { authorization: `Bearer ${pick(CLIENT_KEYS)}`, 'x-soak-stream': '1' }, chatBody('stream me a summary', true));
  return r.status === 200 && r.text.endsWith('data: [DONE]\n\n') && r.text.includes('token 4') ? undefined : `sse: status ${r.status}, incomplete stream`;
}

/** One WebSocket session: connect, five request/answer round trips, close. */
async function oneWebSocket(port: number): Promise<string | undefined> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/realtime?model=gpt-4o-realtime-preview`, { headers: { authorization: `Bearer ${pick(CLIENT_KEYS)}` } });
  try {
    await withTimeout(once(ws, 'open'), 'websocket open');
    for (let i = 0; i < 5; i++) {
      const text = JSON.stringify({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `message ${i} ${i === 2 ? pick(LEAK_POOL) : ''}` }] } });
      ws.send(text);
      const [data] = await withTimeout(once(ws, 'message'), 'websocket answer');
      if (!String(data).includes(`ack ${text.length}`)) return 'websocket: wrong answer';
    }
    ws.close();
    await withTimeout(once(ws, 'close'), 'websocket close');
    return undefined;
  } finally {
    ws.terminate();
  }
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), REQUEST_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `job` about `perSecond` times a second until `until`, at most `concurrency` at once. */
async function paced(perSecond: number, until: number, concurrency: number, job: () => Promise<void>): Promise<void> {
  const interval = 1000 / perSecond;
  let next = Date.now();
  const running = new Set<Promise<void>>();
  while (Date.now() < until) {
    if (running.size >= concurrency) await Promise.race(running);
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    next += interval;
    const p = job().finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
}

export async function runSoak(options: SoakOptions, log: (line: string) => void = () => undefined): Promise<SoakResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gatewatch-soak-'));
  const upstream = await startUpstream();
  const sidecar = await startSidecar(upstream.port, dir);
  const pid = sidecar.child.pid!;
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const counts: Record<Kind, { ok: number; failed: number }> = {
    json: { ok: 0, failed: 0 },
    sse: { ok: 0, failed: 0 },
    websocket: { ok: 0, failed: 0 },
    secret: { ok: 0, failed: 0 },
  };
  const failures: string[] = [];
  const record = (kind: Kind) => async (run: () => Promise<string | undefined>) => {
    let problem: string | undefined;
    try {
      problem = await run();
    } catch (e) {
      problem = `${kind}: ${(e as Error).message}`;
    }
    if (problem === undefined) counts[kind].ok++;
    else {
      counts[kind].failed++;
      if (failures.length < 20) failures.push(problem);
    }
  };

  const loadStarted = Date.now();
  const started = loadStarted + options.warmupMinutes * 60_000;
  const until = started + options.minutes * 60_000;
  const samples: RssSample[] = [];
  const takeSample = () => {
    const sample = { minute: (Date.now() - started) / 60_000, rssMb: rssMb(pid) };
    samples.push(sample);
    const total = Object.values(counts).reduce((s, c) => s + c.ok + c.failed, 0);
    log(`t=${sample.minute.toFixed(2)} min  rss=${sample.rssMb.toFixed(1)} MB  requests=${total}  alerts=${sidecar.alertLines()}`);
  };
  let sampler: NodeJS.Timeout | undefined;
  const warmup = setTimeout(() => {
    log(`warm-up over (${options.warmupMinutes} min): measuring`);
    takeSample();
    sampler = setInterval(takeSample, options.sampleSeconds * 1000);
  }, started - loadStarted);
  const killSidecar = () => sidecar.child.kill('SIGKILL');
  process.once('exit', killSidecar);

  let secretCount = 0;
  try {
    // The rate is split: 50% JSON, 25% SSE, 15% prompts with a leaked key, 10% WebSocket sessions (5 messages each).
    await Promise.all([
      paced(options.rate * 0.5, until, 32, () => record('json')(() => oneJson(agent, sidecar.proxyPort))),
      paced(options.rate * 0.25, until, 32, () => record('sse')(() => oneSse(agent, sidecar.proxyPort))),
      // One leak in fifty is a key never seen before, so new incidents keep opening.
      paced(options.rate * 0.15, until, 16, () => record('secret')(() => oneSecret(agent, sidecar.proxyPort, ++secretCount % 50 === 0))),
      paced(Math.max(0.2, options.rate * 0.1), until, 8, () => record('websocket')(() => oneWebSocket(sidecar.proxyPort))),
    ]);
  } finally {
    clearTimeout(warmup);
    clearInterval(sampler);
  }
  takeSample();

  // Give the sink a moment, then stop the sidecar the way Kubernetes does.
  await new Promise((r) => setTimeout(r, 1500));
  sidecar.child.kill('SIGTERM');
  const code = await sidecar.exited();
  if (code !== 0) failures.push(`gatewatch exited with ${code} after SIGTERM`);
  agent.destroy();
  upstream.wss.close();
  upstream.server.closeAllConnections();
  upstream.server.close();
  process.off('exit', killSidecar);
  rmSync(dir, { recursive: true, force: true });

  const slopeMbPerMin = slope(samples.map((s) => ({ x: s.minute, y: s.rssMb })));
  const failedRequests = Object.values(counts).reduce((s, c) => s + c.failed, 0);
  if (samples.length < 3) failures.push(`only ${samples.length} RSS samples: measure longer or sample more often`);
  if (sidecar.alertLines() === 0) failures.push('no alert fired');
  const passed = failedRequests === 0 && slopeMbPerMin < options.maxSlopeMbPerMin && failures.length === 0;
  return { options, samples, slopeMbPerMin, counts, alertLines: sidecar.alertLines(), failures, passed };
}

export function formatReport(r: SoakResult): string {
  const o = r.options;
  const lines = [
    `gatewatch soak: ${o.warmupMinutes} min warm-up, then ${o.minutes} min measured, at ~${o.rate} req/s (50% JSON, 25% SSE, 15% leaked-key prompts, 10% WebSocket sessions of 5 messages)`,
    '',
    '| minute (after warm-up) | RSS (MB) |',
    '|---:|---:|',
    ...r.samples.map((s) => `| ${s.minute.toFixed(2)} | ${s.rssMb.toFixed(1)} |`),
    '',
    `- requests: ${Object.entries(r.counts).map(([k, c]) => `${k} ${c.ok} ok / ${c.failed} failed`).join(', ')}`,
    `- alert lines on stdout: ${r.alertLines}`,
    `- RSS: min ${Math.min(...r.samples.map((s) => s.rssMb)).toFixed(1)} MB, max ${Math.max(...r.samples.map((s) => s.rssMb)).toFixed(1)} MB; least-squares slope ${r.slopeMbPerMin.toFixed(3)} MB/min (limit ${o.maxSlopeMbPerMin} MB/min)`,
    ...r.failures.map((f) => `- FAILURE: ${f}`),
    `- result: ${r.passed ? 'PASS' : 'FAIL'}`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '30' },
      'sample-seconds': { type: 'string', default: '60' },
      'warmup-minutes': { type: 'string', default: '3' },
      'max-slope': { type: 'string', default: '1' },
      rate: { type: 'string', default: '60' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const options: SoakOptions = {
    minutes: Number(values.minutes),
    sampleSeconds: Number(values['sample-seconds']),
    warmupMinutes: Number(values['warmup-minutes']),
    maxSlopeMbPerMin: Number(values['max-slope']),
    rate: Number(values.rate),
  };
  // Interrupted: exit so the spawned sidecar is killed with us.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const result = await runSoak(options, (line) => process.stderr.write(`${line}\n`));
  const report = formatReport(result);
  process.stdout.write(`${report}\n`);
  if (values.out) writeFileSync(values.out, `${report}\n`);
  process.exitCode = result.passed ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`soak: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
