import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUN_ENV, RUN_NODE_FLAGS } from '../src/node-flags.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { numberFlag } from './flags.js';
import { rawClosedLoop, rawRequest } from './raw-client.js';

// bench/proxy: direct upstream vs bare http-proxy vs gatewatch (tap, views and
// every detector on), measured in one run so the ratios survive a noisy
// machine. Usage: node dist/bench/proxy.js [--seconds N] [--rounds N]
// [--warmup N] [--connections N] [--rate N] [--inspection off|SHARE] [--niceness N]
// [--detectors off] [--overload on] [--client raw|http] [--upload-first] [--cpu-prof DIR]
// (--warmup: seconds of unmeasured load before each measured closed-loop
// round, default 1; --inspection: run gatewatch with inspection disabled or paced to SHARE of a
// core instead of the default; --niceness: the inspection thread's
// inspection.niceness instead of the default; --detectors off: the proxy
// core alone, tap and views with the credential, exfiltration and anomaly
// families disabled; --overload on: inspection.overload enabled, inspection
// yielding while the forwarding thread is busy; --client: the closed loops'
// load generator, raw sockets (default, bench/raw-client.ts) or Node's http
// client as in the first fourteen sessions; --upload-first: a 100 MB body
// through http-proxy and gatewatch before the measured phases, after which
// both forward more slowly (bench/RESULTS.md); --cpu-prof: CPU profiles of
// gatewatch's threads are written to DIR). gatewatch runs with the node flags it ships with
// (src/node-flags.ts). The closed loops also report each target's CPU time
// per request (all its threads, from /proc, and split into the main
// thread, the inspection worker and the rest): on a shared machine it moves
// less from run to run than throughput, and it shows what inspection costs.
// Before the alerts phase it waits for inspection to clear the backlog the
// closed loops left (gatewatch_inspection_queue_depth back to 0) and prints
// how long that took; each of that phase's loops then starts caught up.
// The measured rounds never touch gatewatch's admin listener; the share of
// requests inspected comes from one more loop after them (see unobserved()).

const args = process.argv.slice(2);
const SECONDS = numberFlag(args, 'seconds', 2);
const WARMUP = numberFlag(args, 'warmup', 1);
const ROUNDS = numberFlag(args, 'rounds', 6);
const CONNECTIONS = numberFlag(args, 'connections', 32);
const FIXED_RATE = numberFlag(args, 'rate', 200);
const inspectionAt = args.indexOf('--inspection');
const INSPECTION = inspectionAt >= 0 ? args[inspectionAt + 1] : undefined;
if (INSPECTION !== undefined && INSPECTION !== 'off' && !(Number(INSPECTION) > 0 && Number(INSPECTION) <= 1)) {
  throw new Error('--inspection takes off or a CPU share in (0, 1]');
}
const nicenessAt = args.indexOf('--niceness');
const NICENESS = nicenessAt >= 0 ? Number(args[nicenessAt + 1]) : undefined;
if (NICENESS !== undefined && !(Number.isInteger(NICENESS) && NICENESS >= 0 && NICENESS <= 19)) throw new Error('--niceness takes an integer in [0, 19]');
const detectorsAt = args.indexOf('--detectors');
const DETECTORS_OFF = detectorsAt >= 0 && args[detectorsAt + 1] === 'off';
if (detectorsAt >= 0 && !DETECTORS_OFF) throw new Error('--detectors takes off');
const overloadAt = args.indexOf('--overload');
const OVERLOAD = overloadAt >= 0 && args[overloadAt + 1] === 'on';
if (overloadAt >= 0 && !OVERLOAD) throw new Error('--overload takes on');
const clientAt = args.indexOf('--client');
const RAW_CLIENT = clientAt < 0 || args[clientAt + 1] === 'raw';
if (clientAt >= 0 && !['raw', 'http'].includes(args[clientAt + 1] ?? '')) throw new Error('--client takes raw or http');
const UPLOAD_FIRST = args.includes('--upload-first');
const profileAt = args.indexOf('--cpu-prof');
const PROFILE_ARGS = profileAt >= 0 ? ['--cpu-prof', '--cpu-prof-dir', args[profileAt + 1] ?? '.'] : [];

const AUTHORIZATION = 'Bearer sk-bench-not-a-real-key-000000000000';

interface Target {
  readonly name: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** gatewatch's admin port, to read how many exchanges went uninspected. */
  readonly admin?: number;
}

function startProcess(script: string, argv: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<{ child: ChildProcess; port: number; admin?: number }> {
  const child = spawn(process.execPath, [...nodeArgs, script, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { port?: number; proxy?: string; admin?: string; msg?: string };
        if (msg.port) resolve({ child, port: msg.port });
        else if (msg.msg === 'gatewatch listening' && msg.proxy) resolve({ child, port: Number(msg.proxy.split(':').pop()), admin: Number(msg.admin?.split(':').pop()) });
      } catch {
        // not ours
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function prompt(bytes: number): Buffer {
  const words = 'Please review the following service logs and summarize the errors by component with counts and first timestamps. ';
  const content = words.repeat(Math.ceil(bytes / words.length)).slice(0, bytes);
  return Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are a log analyst.' }, { role: 'user', content }] }));
}

function once(agent: Agent, port: number, path: string, body: Buffer | undefined): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', agent, headers: body ? { 'content-type': 'application/json', 'content-length': body.length, authorization: AUTHORIZATION } : {} },
      (res) => {
        res.resume();
        res.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** CPU time of the target process (all its threads) per request, µs; NaN when not measured. */
  cpuPerRequest: number;
  /** The same split by thread: the main (forwarding) thread, the niced inspection worker, the rest (V8's helpers, libuv). */
  cpuSplit: CpuSplit;
  /** Share of the requests gatewatch inspected (the rest were dropped from inspection, counted); NaN for the others. */
  inspected: number;
}

interface CpuSplit {
  main: number;
  worker: number;
  other: number;
}

const NO_SPLIT: CpuSplit = { main: NaN, worker: NaN, other: NaN };

/** A thread's user + system CPU time so far (µs, from clock ticks of 10 ms) and its niceness, from /proc. */
function threadStat(pid: number, tid: string): { micros: number; niceness: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  } catch {
    return undefined; // the thread ended between the listing and the read
  }
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return { micros: (Number(fields[11]) + Number(fields[12])) * 10_000, niceness: Number(fields[16]) };
}

/**
 * CPU time of a process's threads so far, µs (Linux: /proc). The inspection
 * worker is the thread niced below the main thread (inspection.niceness);
 * with niceness 0 it counts as other.
 */
function cpuMicros(pid: number): CpuSplit {
  const main = threadStat(pid, String(pid))!;
  const split = { main: main.micros, worker: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (tid === String(pid)) continue;
    const t = threadStat(pid, tid);
    if (t === undefined) continue;
    if (t.niceness > main.niceness) split.worker += t.micros;
    else split.other += t.micros;
  }
  return split;
}

/** A metric family summed over its series (all labels), from gatewatch's admin listener. */
async function scrapedSum(admin: number, family: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${family} `) || line.startsWith(`${family}{`)) sum += Number(line.split(' ').pop());
  return sum;
}

const droppedFromInspection = (admin: number) => scrapedSum(admin, 'gatewatch_inspection_dropped_total');

/**
 * Waits until gatewatch has inspected everything it captured
 * (gatewatch_inspection_queue_depth back to 0): the seconds that took.
 */
async function inspectionCatchUp(admin: number, deadlineSeconds = 180): Promise<number> {
  const started = performance.now();
  while ((await scrapedSum(admin, 'gatewatch_inspection_queue_depth')) > 0) {
    if (performance.now() - started > deadlineSeconds * 1000) throw new Error(`inspection still behind after ${deadlineSeconds} s`);
    await sleep(50);
  }
  return (performance.now() - started) / 1000;
}

async function httpLatencies(port: number, body: Buffer | (() => Buffer), seconds: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) latencies.push(await once(agent, port, '/v1/chat/completions', typeof body === 'function' ? body() : body));
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  return latencies;
}

async function rawLatencies(port: number, body: Buffer | (() => Buffer), seconds: number): Promise<number[]> {
  const build = (b: Buffer) => rawRequest(port, '/v1/chat/completions', b, { authorization: AUTHORIZATION });
  const fixed = typeof body === 'function' ? undefined : build(body);
  const result = await rawClosedLoop(port, fixed ? () => fixed : () => build((body as () => Buffer)()), CONNECTIONS, seconds);
  if (result.failures > 0) throw new Error(`${result.failures} requests to port ${port} failed`);
  return result.latencies;
}

async function closedLoop(port: number, body: Buffer | (() => Buffer), seconds: number, observed?: Target): Promise<LoadResult> {
  const pid = observed?.pid;
  const cpuBefore = pid === undefined ? NO_SPLIT : cpuMicros(pid);
  const droppedBefore = observed?.admin === undefined ? NaN : await droppedFromInspection(observed.admin);
  const started = Date.now();
  const latencies = RAW_CLIENT ? await rawLatencies(port, body, seconds) : await httpLatencies(port, body, seconds);
  const elapsed = (Date.now() - started) / 1000;
  const cpuAfter = pid === undefined ? NO_SPLIT : cpuMicros(pid);
  const dropped = observed?.admin === undefined ? NaN : (await droppedFromInspection(observed.admin)) - droppedBefore;
  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  const cpuSplit = { main: (cpuAfter.main - cpuBefore.main) / n, worker: (cpuAfter.worker - cpuBefore.worker) / n, other: (cpuAfter.other - cpuBefore.other) / n };
  const cpuPerRequest = cpuSplit.main + cpuSplit.worker + cpuSplit.other;
  return { rps: n / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuPerRequest, cpuSplit, inspected: (n - dropped) / n };
}

/**
 * A target's measured rounds never touch its admin listener: any request
 * there sends V8 back to deoptimizing and recompiling gatewatch's hot
 * proxy code (bench/RESULTS.md, eighteenth session), and the counter read
 * just before a round put that into the round. The share of requests
 * inspected comes from one more loop after the rounds, its counter read
 * right before and after it as before; its throughput is not reported.
 */
const unobserved = (t: Target): Target => ({ name: t.name, port: t.port, pid: t.pid });

async function fixedRate(port: number, body: Buffer, rate: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const total = rate * seconds;
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(once(agent, port, '/v1/chat/completions', body).then((ms) => void latencies.push(ms)));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rps: rate, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuPerRequest: NaN, cpuSplit: NO_SPLIT, inspected: NaN };
}

async function firstSseChunk(port: number, n: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    times.push(
      await new Promise<number>((resolve, reject) => {
        const started = process.hrtime.bigint();
        const req = request({ host: '127.0.0.1', port, path: '/sse', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': 2 } }, (res) => {
          let first = 0;
          res.on('data', () => {
            if (first === 0) first = Number(process.hrtime.bigint() - started) / 1e6;
          });
          res.on('end', () => resolve(first));
        });
        req.on('error', reject);
        req.end('{}');
      }),
    );
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  return percentile(times, 50);
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

async function peakRssDuringUpload(target: Target, bytes: number): Promise<{ peak: number; idle: number }> {
  const idle = rssMb(target.pid!);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(target.pid!))), 10);
  await upload(target.port, bytes);
  clearInterval(sampler);
  return { peak, idle };
}

/** One request with a body of `bytes`, streamed in 64 KB chunks. */
async function upload(port: number, bytes: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent >= bytes) return void this.push(null);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/sink', method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    body.pipe(req);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, d = 2) => n.toFixed(d);
/** A share as a percentage; a dash when it was not measured. */
const pct = (share: number) => (Number.isNaN(share) ? '–' : `${fmt(share * 100, 1)}%`);

/** Median µs per request of each thread group, as "main / worker / other". */
function splitOf(rs: LoadResult[]): string {
  const m = (pick: (s: CpuSplit) => number) => fmt(median(rs.map((x) => pick(x.cpuSplit))), 0);
  return `${m((s) => s.main)} / ${m((s) => s.worker)} / ${m((s) => s.other)}`;
}

async function main(): Promise<void> {
  const dist = join(PROJECT_ROOT, 'dist');
  const upstream = await startProcess(join(dist, 'bench/servers/upstream.js'), []);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const bare = await startProcess(join(dist, 'bench/servers/bare-proxy.js'), [upstreamUrl]);
  const config = join(tmpdir(), `gatewatch-bench-${process.pid}.yaml`);
  const inspection = [
    INSPECTION === 'off' ? '  enabled: false\n' : INSPECTION === undefined ? '' : `  maxCpuShare: ${INSPECTION}\n`,
    NICENESS === undefined ? '' : `  niceness: ${NICENESS}\n`,
    OVERLOAD ? '  overload:\n    enabled: true\n' : '',
  ].join('');
  const families = DETECTORS_OFF ? 'credentials:\n  enabled: false\nexfiltration:\n  enabled: false\nanomaly:\n  enabled: false\n' : '';
  writeFileSync(config, `alerts:\n  sinks:\n    stdout:\n      enabled: false\nlog:\n  level: warn\n${inspection ? `inspection:\n${inspection}` : ''}${families}`);
  const startGatewatch = (nodeArgs: string[] = []) =>
    startProcess(
      join(dist, 'src/cli.js'),
      ['run', '--config', config, '--listen', '127.0.0.1:0', '--upstream', upstreamUrl, '--admin', '127.0.0.1:0'],
      { ...RUN_ENV, GATEWATCH_FINGERPRINT_KEY: 'bench-fingerprint-key', GATEWATCH_LOG_LEVEL: 'info' },
      [...RUN_NODE_FLAGS, ...nodeArgs],
    );
  // Memory while a 100 MB body streams through, on a gatewatch of its own: the phases after it
  // compare a fresh gatewatch with a fresh http-proxy, or both after the same upload (--upload-first).
  const probe = await startGatewatch();
  const probeExit = new Promise((resolve) => probe.child.once('exit', resolve));
  let rss: { peak: number; idle: number };
  try {
    rss = await peakRssDuringUpload({ name: 'gatewatch', port: probe.port, pid: probe.child.pid }, 100 * 1024 * 1024);
  } finally {
    probe.child.kill('SIGTERM');
    await probeExit;
  }
  const gw = await startGatewatch(PROFILE_ARGS);
  const targets: Target[] = [
    { name: 'direct', port: upstream.port, pid: upstream.child.pid },
    { name: 'http-proxy', port: bare.port, pid: bare.child.pid },
    { name: 'gatewatch', port: gw.port, pid: gw.child.pid, ...(INSPECTION === 'off' ? {} : { admin: gw.admin }) },
  ];
  const lines: string[] = [];
  const out = (s: string) => {
    lines.push(s);
    process.stdout.write(`${s}\n`);
  };
  out(`bench/proxy — ${new Date().toISOString()} — node ${process.version}, ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} rounds (median) each after ${WARMUP}s unmeasured, ${RAW_CLIENT ? 'raw-socket client' : "Node's http client"}${INSPECTION === undefined ? '' : `, inspection ${INSPECTION}`}${NICENESS === undefined ? '' : `, inspection niceness ${NICENESS}`}${DETECTORS_OFF ? ', detectors off (tap and views only)' : ''}${OVERLOAD ? ', inspection.overload on' : ''}${UPLOAD_FIRST ? ', http-proxy and gatewatch each passed a 100 MB body first' : ''}`);
  try {
    out(`\ngatewatch RSS while a 100 MB request body passes (fresh process): idle ${fmt(rss.idle, 0)} MB, peak ${fmt(rss.peak, 0)} MB`);
    if (UPLOAD_FIRST) for (const t of targets.slice(1)) await upload(t.port, 100 * 1024 * 1024);
    for (const size of [4 * 1024, 64 * 1024]) {
      const body = prompt(size);
      for (const t of targets) await closedLoop(t.port, body, 1); // warm-up
      const results = new Map<string, LoadResult[]>();
      for (let r = 0; r < ROUNDS; r++) {
        for (const t of targets) {
          // Unmeasured, so each round measures the target already under load: for gatewatch, with its
          // inspection queue as full and its overload state as sustained load leaves them, rather than
          // as the other targets' rounds left them (drained, calm).
          if (WARMUP > 0) await closedLoop(t.port, body, WARMUP);
          const res = await closedLoop(t.port, body, SECONDS, unobserved(t));
          results.set(t.name, [...(results.get(t.name) ?? []), res]);
        }
      }
      const coverage = new Map<string, number>();
      for (const t of targets.filter((x) => x.admin !== undefined)) {
        if (WARMUP > 0) await closedLoop(t.port, body, WARMUP);
        coverage.set(t.name, (await closedLoop(t.port, body, SECONDS, t)).inspected);
      }
      out(`\n${size / 1024} KB prompt, closed loop:`);
      out('| target | req/s | p50 ms | p99 ms | throughput vs http-proxy | same, round by round: median (min–max) | CPU µs per request (all threads) | of which main / inspection worker / other threads | CPU vs http-proxy | requests inspected |');
      out('|---|---|---|---|---|---|---|---|---|---|');
      const bare = results.get('http-proxy')!;
      const bareRps = median(bare.map((x) => x.rps));
      const bareCpu = median(bare.map((x) => x.cpuPerRequest));
      for (const t of targets) {
        const rs = results.get(t.name)!;
        const rps = median(rs.map((x) => x.rps));
        const cpu = median(rs.map((x) => x.cpuPerRequest));
        // Each round measures the targets one after the other, so a ratio taken within a round
        // is less moved by the machine's slow stretches than the ratio of the medians.
        const paired = rs.map((x, i) => x.rps / bare[i]!.rps);
        const pairedText = `${pct(median(paired))} (${pct(Math.min(...paired))}–${pct(Math.max(...paired))})`;
        out(`| ${t.name} | ${fmt(rps, 0)} | ${fmt(median(rs.map((x) => x.p50)))} | ${fmt(median(rs.map((x) => x.p99)))} | ${fmt((rps / bareRps) * 100, 1)}% | ${pairedText} | ${fmt(cpu, 0)} | ${splitOf(rs)} | ${fmt(cpu / bareCpu)}× | ${pct(coverage.get(t.name) ?? NaN)} |`);
      }
      const fixed = new Map<string, LoadResult>();
      for (const t of targets) fixed.set(t.name, await fixedRate(t.port, body, FIXED_RATE, SECONDS));
      const d = fixed.get('direct')!;
      const b = fixed.get('http-proxy')!;
      const g = fixed.get('gatewatch')!;
      out(`\n${size / 1024} KB prompt, fixed rate ${FIXED_RATE} req/s: p50 direct ${fmt(d.p50, 3)} ms, http-proxy ${fmt(b.p50, 3)} ms, gatewatch ${fmt(g.p50, 3)} ms`);
      out(`  added p50 by gatewatch vs http-proxy: ${fmt(g.p50 - b.p50, 3)} ms; vs direct: ${fmt(g.p50 - d.p50, 3)} ms (p99 ${fmt(d.p99, 2)} / ${fmt(b.p99, 2)} / ${fmt(g.p99, 2)} ms)`);
    }
    // Alerts firing on every request: each prompt carries a different (fake) AWS key id.
    const base32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let serial = 0;
    const leaking = () => {
      let id = '';
      for (let n = serial++, i = 0; i < 16; i++, n = Math.floor(n / 32)) id += base32[(n + i * 7) % 32];
      const b = prompt(4 * 1024).toString().replace('Please review', `My key is AKIA${id}. Please review`);
      return Buffer.from(b);
    };
    const quiet: LoadResult[] = [];
    const firing: LoadResult[] = [];
    // Each loop starts with inspection caught up, so neither inherits the other's backlog.
    const caughtUp = async () => (gw.admin === undefined ? 0 : await inspectionCatchUp(gw.admin));
    out(`\nInspection backlog left by the closed loops: gatewatch_inspection_queue_depth back to 0 after ${fmt(await caughtUp(), 1)} s`);
    for (let r = 0; r < ROUNDS; r++) {
      await caughtUp();
      quiet.push(await closedLoop(gw.port, prompt(4 * 1024), SECONDS, targets[2]));
      await caughtUp();
      firing.push(await closedLoop(gw.port, leaking, SECONDS, targets[2]));
    }
    const q = median(quiet.map((x) => x.rps));
    const f = median(firing.map((x) => x.rps));
    const share = (xs: LoadResult[]) => pct(median(xs.map((x) => x.inspected)));
    out(`\nAlerts on every request (4 KB, a new leaked key each time) vs none, gatewatch closed loop: ${fmt(f, 0)} vs ${fmt(q, 0)} req/s = ${fmt((f / q) * 100, 1)}% (requests inspected: ${share(firing)} vs ${share(quiet)})`);
    const ttfb = new Map<string, number>();
    for (const t of targets) ttfb.set(t.name, await firstSseChunk(t.port, 200));
    out(`\nTime to first SSE chunk (p50 of 200): direct ${fmt(ttfb.get('direct')!, 3)} ms, http-proxy ${fmt(ttfb.get('http-proxy')!, 3)} ms, gatewatch ${fmt(ttfb.get('gatewatch')!, 3)} ms (gatewatch − http-proxy: ${fmt(ttfb.get('gatewatch')! - ttfb.get('http-proxy')!, 3)} ms)`);
  } finally {
    for (const c of [gw.child, bare.child, upstream.child]) c.kill('SIGTERM');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
