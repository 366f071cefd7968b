import { parseArgs } from 'node:util';
import { startGatewatch, type Gatewatch } from '../app.js';
import { parseHostPort } from '../config/load.js';
import { createLogger } from '../log.js';
import { createTimeLapse, onTimeLapse, type TimeLapse } from './clock.js';
import { demoConfig } from './config.js';
import { subscribeAlerts, type AlertFeed } from './feed.js';
import { createRandom } from './random.js';
import { playTraffic } from './send.js';
import { MIN_RUN_AFTER_CATCH_UP_MS, planTraffic, type TrafficPlan } from './traffic.js';
import { startFakeUpstream, type FakeUpstream } from './upstream.js';

// `gatewatch demo`: a fake LLM upstream, gatewatch in front of it (or a
// real one with --target), ordinary traffic and scripted incidents, and the
// alerts printed as they fire. Exits 1 when an incident raised no alert.

export interface DemoIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

const HISTORY_MS = 20 * 60_000;
const CATCH_UP_MS = 10_000;

const USAGE = `Usage: gatewatch demo [--duration SECONDS] [--seed N] [--listen HOST:PORT] [--admin HOST:PORT] [--upstream HOST:PORT]
       gatewatch demo --target URL [--admin HOST:PORT] [--upstream HOST:PORT]

  --duration SECONDS  how long to run (default 60; at least ${Math.ceil((CATCH_UP_MS + MIN_RUN_AFTER_CATCH_UP_MS) / 1000)})
  --seed N            seed of the traffic, users and fake keys (default 1)
  --listen HOST:PORT  proxy of the embedded gatewatch (default 127.0.0.1:0, a free port)
  --admin HOST:PORT   its admin listener, with the alerts page at /ui/ (default 127.0.0.1:0);
                      with --target: the admin listener of that gatewatch, to show its alerts
  --upstream HOST:PORT where the fake LLM upstream listens (default 127.0.0.1:0)
  --target URL        send the traffic to a running gatewatch instead of starting one
                      (start it with --upstream pointing at the fake upstream)
`;

interface DemoArgs {
  readonly durationMs: number;
  readonly seed: number;
  readonly target?: URL;
  readonly listen: string;
  readonly admin?: string;
  readonly upstream: string;
}

export async function runDemo(argv: string[], io: DemoIo): Promise<number> {
  let args: DemoArgs;
  try {
    const parsed = parseDemoArgs(argv);
    if (parsed === 'help') {
      io.stdout.write(USAGE);
      return 0;
    }
    args = parsed;
  } catch (e) {
    io.stderr.write(`gatewatch demo: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const out = (line: string) => void io.stdout.write(line);
  const embedded = args.target === undefined;
  const lapse = embedded ? { historyMs: HISTORY_MS, catchUpMs: CATCH_UP_MS } : { historyMs: 0, catchUpMs: 0 };
  // Planned on a clock started at 0: every time in the plan is an offset from the start of the traffic.
  const plan = planTraffic({ random: createRandom(args.seed), clock: createTimeLapse({ ...lapse, start: 0 }), endsAt: args.durationMs - 2_000 });
  // The detectors' clock starts with the traffic, not while things start up.
  let clock: TimeLapse | undefined;

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  let upstream: FakeUpstream | undefined;
  let gw: Gatewatch | undefined;
  let feed: AlertFeed | undefined;
  try {
    const upstreamAt = parseHostPort(args.upstream);
    upstream = await startFakeUpstream({ revokedKeys: plan.revokedKeys, host: upstreamAt.host, port: upstreamAt.port });
    const token = process.env.GATEWATCH_ADMIN_TOKEN || undefined;
    let target: URL;
    let streamUrl: string | undefined;
    if (embedded) {
      gw = await startEmbedded(args, upstream.url, token, () => clock, io.stderr);
      target = new URL(`http://${hostForUrl(gw.proxyAddress.host)}:${gw.proxyAddress.port}`);
      const admin = `${hostForUrl(gw.adminAddress.host)}:${gw.adminAddress.port}`;
      streamUrl = `ws://${admin}/api/alerts/stream`;
      out(banner(args, upstream.url, target.href, `http://${admin}`, gw.detectorCount, token !== undefined));
    } else {
      target = args.target!;
      if (args.admin) streamUrl = `ws://${args.admin}/api/alerts/stream`;
      out(targetBanner(args, upstream.url));
    }
    out(timeline(plan, embedded));
    const startedAt = Date.now();
    clock = createTimeLapse({ ...lapse, start: startedAt });
    if (streamUrl) feed = await subscribeAlerts({ url: streamUrl, ...(token ? { token } : {}), startedAt, write: out });

    const stats = await playTraffic(plan.requests, target, startedAt, stop.signal);
    const left = startedAt + args.durationMs - Date.now();
    if (left > 0 && !stop.signal.aborted) await abortableSleep(left, stop.signal);

    const caught = summarize(plan, feed, out);
    const statuses = [...stats.byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${n}×${s}`).join(' ');
    out(`\n${stats.sent} requests (${statuses}${stats.failed ? `, ${stats.failed} failed` : ''}), ${feed?.alerts.length ?? 0} alerts in ${((Date.now() - startedAt) / 1000).toFixed(0)}s.\n`);
    if (stop.signal.aborted) return 130;
    if (!feed) return 0;
    if (!embedded) return 0; // a real gatewatch has its own warm-ups; the summary says what fired
    return caught ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    feed?.close();
    await gw?.close(3_000);
    await upstream?.close();
  }
}

/** gatewatch on the demo config, its detectors on the time-lapse clock, the alerts page included. */
function startEmbedded(args: DemoArgs, upstream: string, token: string | undefined, clock: () => TimeLapse | undefined, stderr: NodeJS.WritableStream): Promise<Gatewatch> {
  const config = demoConfig({ upstream, listen: args.listen, admin: args.admin ?? '127.0.0.1:0', fingerprintKey: `gatewatch-demo-seed-${args.seed}`, ...(token ? { adminToken: token } : {}) });
  return startGatewatch(config, {
    detectors: (defaults) => defaults.map((d) => onTimeLapse(d, clock)),
    logger: createLogger({ level: 'warn', destination: stderr }),
  });
}

function parseDemoArgs(argv: string[]): DemoArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      seed: { type: 'string' },
      target: { type: 'string' },
      listen: { type: 'string' },
      admin: { type: 'string' },
      upstream: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const durationS = values.duration === undefined ? 60 : Number(values.duration);
  const minS = Math.ceil((values.target === undefined ? CATCH_UP_MS + MIN_RUN_AFTER_CATCH_UP_MS : MIN_RUN_AFTER_CATCH_UP_MS) / 1000);
  if (!Number.isFinite(durationS) || durationS < minS) throw new Error(`--duration must be a number of seconds, at least ${minS} (the incidents need that long)`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error('--seed must be a non-negative integer');
  let target: URL | undefined;
  if (values.target !== undefined) {
    target = new URL(values.target);
    if (target.protocol !== 'http:') throw new Error('--target must be an http:// URL');
  }
  for (const [flag, value] of [['--listen', values.listen], ['--admin', values.admin], ['--upstream', values.upstream]] as const) {
    if (value === undefined) continue;
    try {
      parseHostPort(value);
    } catch (e) {
      throw new Error(`${flag}: ${(e as Error).message}`);
    }
  }
  return {
    durationMs: durationS * 1000,
    seed,
    ...(target ? { target } : {}),
    listen: values.listen ?? '127.0.0.1:0',
    ...(values.admin !== undefined ? { admin: values.admin } : {}),
    upstream: values.upstream ?? '127.0.0.1:0',
  };
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function banner(args: DemoArgs, upstream: string, proxy: string, admin: string, detectors: number, withToken: boolean): string {
  return [
    `gatewatch demo (seed ${args.seed}, ${args.durationMs / 1000}s)`,
    `  fake LLM upstream  ${upstream}  (OpenAI + Anthropic APIs)`,
    `  gatewatch proxy    ${proxy}  (${detectors} detectors, embedded defaults: no Redis, no collector, no Slack)`,
    `  alerts page        ${admin}/ui/${withToken ? '?token=<your GATEWATCH_ADMIN_TOKEN>' : ''}`,
    `  alerts API         ${admin}/api/alerts   metrics ${admin}/metrics`,
    `  note: the first ${CATCH_UP_MS / 1000}s replay ${HISTORY_MS / 60_000} minutes of ordinary traffic on a time-lapse clock,`,
    `        and the demo shortens anomaly warm-ups, so baselines exist when the incidents start.`,
    '',
  ].join('\n') + '\n';
}

function targetBanner(args: DemoArgs, upstream: string): string {
  return [
    `gatewatch demo against ${args.target!.href} (seed ${args.seed}, ${args.durationMs / 1000}s)`,
    `  fake LLM upstream  ${upstream}  — that gatewatch must forward to it (gatewatch run --upstream ${upstream})`,
    args.admin ? `  alerts from        ws://${args.admin}/api/alerts/stream` : '  alerts: not shown (pass --admin HOST:PORT of that gatewatch to see them here)',
    '  note: no time-lapse here; anomaly detectors alert only once that gatewatch has its usual warm-up history.',
    '',
  ].join('\n') + '\n';
}

function timeline(plan: TrafficPlan, embedded: boolean): string {
  const lines = ['Scripted incidents:'];
  if (embedded) lines.push(`  +0s    ordinary usage from 5 users (time-lapse until +${CATCH_UP_MS / 1000}s)`);
  for (const i of plan.incidents) lines.push(`  +${Math.round(i.at / 1000)}s`.padEnd(9) + i.title);
  return `${lines.join('\n')}\n\nAlerts as they fire:\n`;
}

/** Prints which incidents were caught; true when all were. */
function summarize(plan: TrafficPlan, feed: AlertFeed | undefined, out: (s: string) => void): boolean {
  if (!feed) return false;
  const fired = new Set(feed.alerts.map((a) => a.detector));
  let all = true;
  out('\nIncidents:\n');
  for (const i of plan.incidents) {
    const missing = i.expects.filter((d) => !fired.has(d));
    if (missing.length > 0) all = false;
    out(`  ${missing.length === 0 ? 'caught ' : 'MISSED '} ${i.title}: ${i.expects.map((d) => `${d} ${fired.has(d) ? '✓' : '✗'}`).join(', ')}\n`);
  }
  return all;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
