import { pathToFileURL } from 'node:url';
import { parseAnomalyConfig } from '../src/detect/anomaly/config.js';
import { createAnomalyDetectors } from '../src/detect/anomaly/index.js';
import { makeExchange } from '../src/exchange.js';
import { mulberry32, type Rng } from '../src/random.js';
import { MemoryStore } from '../src/state/memory.js';
import type { Detector, Exchange, Finding } from '../src/types.js';
import { numberFlag } from './flags.js';

// A traffic simulator for the anomaly detectors: days of multi-key traffic
// (diurnal cycles, weekends, bursty nightly batch jobs, steady services,
// gradual growth, new keys ramping up) with one injected incident of each
// kind near the end. It reports detection, time to detect, and false alarms
// per 1,000 identity-days of normal traffic.
//
//   node dist/bench/anomaly-sim.js [--days N] [--keys N] [--seed N]

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// A Monday, so hour-of-week slots line up with the simulated weekdays.
const START = Date.UTC(2026, 0, 5);

type Kind = 'interactive' | 'batch' | 'service';

interface SimKey {
  readonly index: number;
  readonly kind: Kind;
  readonly fp: string;
  readonly user: string;
  readonly team: string;
  readonly ips: readonly string[];
  readonly ua: string;
  readonly models: readonly string[];
  /** Requests per minute at the busiest time of a weekday at the start. */
  readonly peakRate: number;
  readonly growthPerDay: number;
  /** Hour (UTC) of the middle of the working day, or of the nightly batch job. */
  readonly hour: number;
  readonly tokens: number;
  readonly promptChars: number;
  /** Share of the peak rate that goes on at any hour (0 for keys only people use, in working hours). */
  readonly floor: number;
  /** First active day; keys that appear mid-simulation ramp up over two days. */
  readonly startDay: number;
}

interface Incident {
  readonly id: number;
  readonly expected: string;
  readonly start: number;
  readonly end: number;
  readonly key?: SimKey;
  readonly ip?: string;
  /** Requests of the incident in the minute starting at `t`. */
  events(t: number, rng: Rng): SimEvent[];
}

interface SimEvent {
  readonly time: number;
  readonly exchange: Exchange;
  readonly key?: SimKey;
  readonly incident?: number;
}


function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rng)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng();
  } while (p > l);
  return k - 1;
}

function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(rng() || 1e-12)) * Math.cos(2 * Math.PI * rng());
}

function logNormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * gaussian(rng));
}

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'gemini-2.5-flash', 'text-embedding-3-small'];
const UAS = ['OpenAI/Python 1.40.0', 'AsyncOpenAI/Python 1.51.2', 'litellm/1.50.1', 'Anthropic/Python 0.39.0', 'OpenAI/JS 4.67.3'];

function makeKeys(n: number, rng: Rng, days: number): SimKey[] {
  const keys: SimKey[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng();
    const kind: Kind = r < 0.55 ? 'interactive' : r < 0.8 ? 'batch' : 'service';
    const team = `team-${i % 6}`;
    const subnets = 1 + Math.floor(rng() * 2);
    const ips: string[] = [];
    for (let s = 0; s < subnets; s++) {
      const hosts = 1 + Math.floor(rng() * 3);
      for (let h = 0; h < hosts; h++) ips.push(`10.${i % 250}.${s}.${10 + h}`);
    }
    const nModels = 1 + Math.floor(rng() * 3);
    const models = Array.from({ length: nModels }, (_, m) => MODELS[(i + m) % MODELS.length]!);
    keys.push({
      index: i,
      kind,
      fp: `fp:${(0x1000000000000 + i * 7919).toString(16).padStart(16, '0')}`,
      user: `user-${i}`,
      team,
      ips,
      ua: UAS[i % UAS.length]!,
      models,
      peakRate: kind === 'batch' ? 20 + rng() * 60 : 0.5 + rng() * 8,
      growthPerDay: rng() * 0.03,
      hour: kind === 'batch' ? Math.floor(rng() * 24) : 11 + Math.floor(rng() * 8),
      tokens: 300 + rng() * 1500,
      promptChars: 500 + rng() * 4000,
      floor: kind === 'interactive' && i % 2 === 0 ? 0 : 0.002,
      // One key in eight appears mid-run (after the first week) and ramps up.
      startDay: i % 8 === 7 ? 7 + Math.floor(rng() * Math.max(1, days - 10)) : 0,
    });
  }
  return keys;
}

/** Expected requests per minute of a key at time t. */
function rateAt(k: SimKey, t: number): number {
  const day = (t - START) / DAY;
  if (day < k.startDay) return 0;
  const ramp = k.startDay === 0 ? 1 : Math.min(1, (day - k.startDay) / 2);
  const growth = 1 + k.growthPerDay * day;
  const hour = (t % DAY) / HOUR;
  const weekday = Math.floor(day) % 7 < 5;
  const dist = Math.min(Math.abs(hour - k.hour), 24 - Math.abs(hour - k.hour));
  let shape: number;
  switch (k.kind) {
    case 'interactive':
      shape = Math.exp(-(dist * dist) / (2 * 2.5 * 2.5)) * (weekday ? 1 : 0.15) + k.floor;
      break;
    case 'service':
      shape = 0.6 + 0.4 * Math.cos((2 * Math.PI * (hour - k.hour)) / 24);
      break;
    case 'batch':
      // A nightly job of ~45 minutes at full rate, a trickle otherwise.
      shape = hour >= k.hour && hour < k.hour + 0.75 ? 1 : 0.004;
      break;
  }
  return k.peakRate * shape * growth * ramp;
}

// Prompts are slices of one string: cheap to make, and the detectors only measure them.
const PROMPT_TEXT = 'x'.repeat(400_000);

function exchangeFor(
  k: SimKey,
  rng: Rng,
  over: { ip?: string; ua?: string; model?: string; status?: number; tokens?: number; promptChars?: number; fp?: string } = {},
): Exchange {
  const tokens = over.tokens ?? logNormal(rng, k.tokens, 0.5);
  const chars = Math.round(over.promptChars ?? logNormal(rng, k.promptChars, 0.6));
  const r = rng();
  const status = over.status ?? (r < 0.01 ? 500 : r < 0.012 ? 429 : 200);
  return makeExchange({
    identity: {
      clientIp: over.ip ?? k.ips[Math.floor(rng() * k.ips.length)]!,
      keyFingerprint: over.fp ?? k.fp,
      user: k.user,
      team: k.team,
      userAgent: over.ua ?? k.ua,
    },
    model: over.model ?? k.models[Math.floor(rng() * k.models.length)]!,
    status,
    usage: { promptTokens: Math.round(tokens * 0.7), completionTokens: Math.round(tokens * 0.3) },
    prompt: [{ path: 'request.body.messages[0].content', role: 'user', text: PROMPT_TEXT.slice(0, Math.max(1, chars)) }],
  });
}

function spread(t: number, n: number, rng: Rng): number[] {
  return Array.from({ length: n }, () => t + Math.floor(rng() * MINUTE));
}

function pick(keys: SimKey[], used: Set<number>, want: (k: SimKey) => boolean): SimKey {
  const k = keys.find((x) => !used.has(x.index) && x.startDay === 0 && want(x)) ?? keys.find((x) => !used.has(x.index) && x.startDay === 0);
  if (!k) throw new Error('simulator: not enough keys for the incidents; use more --keys');
  used.add(k.index);
  return k;
}

function makeIncidents(keys: SimKey[], days: number, rng: Rng): Incident[] {
  const used = new Set<number>();
  const incidents: Incident[] = [];
  // Incidents happen during the last days, at a weekday afternoon unless said otherwise.
  if (days < 21) throw new Error('simulator: needs at least 21 days (unusual-hour learns two weeks first)');
  const base = START + (days - 4) * DAY;
  const add = (
    expected: string,
    start: number,
    minutes: number,
    key: SimKey | undefined,
    perMinute: (t: number, id: number, rng: Rng) => SimEvent[],
    ip?: string,
  ) => {
    const id = incidents.length;
    incidents.push({
      id,
      expected,
      start,
      end: start + minutes * MINUTE,
      ...(key ? { key } : {}),
      ...(ip ? { ip } : {}),
      events: (t, r) => perMinute(t, id, r),
    });
  };
  const ev = (k: SimKey | undefined, id: number, times: number[], make: (r: Rng) => Exchange, r: Rng): SimEvent[] =>
    times.map((time) => ({ time, exchange: make(r), incident: id, ...(k ? { key: k } : {}) }));
  const interactive = (k: SimKey) => k.kind === 'interactive';
  const quiet = (k: SimKey) => k.kind !== 'batch' && k.peakRate < 5;

  const k1 = pick(keys, used, quiet);
  add('anomaly.request-rate-spike', base + 14 * HOUR, 10, k1, (t, id, r) => ev(k1, id, spread(t, 80, r), (rr) => exchangeFor(k1, rr, { tokens: 10 }), r));
  const k2 = pick(keys, used, quiet);
  add('anomaly.token-rate-spike', base + 14 * HOUR + 10 * MINUTE, 10, k2, (t, id, r) =>
    ev(k2, id, spread(t, 6, r), (rr) => exchangeFor(k2, rr, { tokens: 40_000, model: 'gpt-4o-mini' }), r),
  );
  const k3 = pick(keys, used, quiet);
  add('anomaly.cost-spike', base + 14 * HOUR + 20 * MINUTE, 10, k3, (t, id, r) =>
    ev(k3, id, spread(t, 5, r), (rr) => exchangeFor(k3, rr, { tokens: 12_000, model: 'claude-opus-4' }), r),
  );
  const k4 = pick(keys, used, (k) => k.kind === 'service');
  add('anomaly.new-network', base + 15 * HOUR, 5, k4, (t, id, r) => ev(k4, id, spread(t, 2, r), (rr) => exchangeFor(k4, rr, { ip: '198.51.100.23' }), r));
  const k5 = pick(keys, used, quiet);
  add('anomaly.many-ips', base + 15 * HOUR + 10 * MINUTE, 4, k5, (t, id, r) =>
    ev(k5, id, spread(t, 10, r), (rr) => exchangeFor(k5, rr, { ip: `203.0.113.${Math.floor(rr() * 200)}` }), r),
  );
  const k6 = pick(keys, used, (k) => k.kind === 'service');
  add('anomaly.new-user-agent', base + 15 * HOUR + 20 * MINUTE, 5, k6, (t, id, r) => ev(k6, id, spread(t, 2, r), (rr) => exchangeFor(k6, rr, { ua: 'curl/8.5.0' }), r));
  const stuffer = '192.0.2.66';
  const k7 = keys[0]!;
  add(
    'anomaly.auth-failures-ip',
    base + 16 * HOUR,
    3,
    undefined,
    (t, id, r) =>
      ev(undefined, id, spread(t, 25, r), (rr) => exchangeFor(k7, rr, { ip: stuffer, status: 401, fp: `fp:dead${Math.floor(rr() * 0xffffffff).toString(16).padStart(12, '0')}`, ua: 'python-requests/2.31' }), r),
    stuffer,
  );
  const k8 = pick(keys, used, interactive);
  add('anomaly.auth-failures-key', base + 16 * HOUR + 10 * MINUTE, 10, k8, (t, id, r) => ev(k8, id, spread(t, 6, r), (rr) => exchangeFor(k8, rr, { status: 401 }), r));
  const k9 = pick(keys, used, quiet);
  const probe = ['gpt-4', 'gpt-4-turbo', 'o1', 'o3', 'claude-3-opus', 'claude-opus-4', 'gemini-1.5-pro', 'mistral-large', 'llama-3.1-70b', 'gpt-4.1', 'o4-mini', 'claude-3-haiku'];
  add('anomaly.model-enumeration', base + 16 * HOUR + 20 * MINUTE, 3, k9, (t, id, r) =>
    ev(k9, id, spread(t, 8, r), (rr) => exchangeFor(k9, rr, { model: probe[Math.floor(rr() * probe.length)]!, status: rr() < 0.5 ? 404 : 200 }), r),
  );
  // A key that people use in working hours only: it has no traffic on Sunday nights.
  const quietest = keys.filter((k) => !used.has(k.index) && k.startDay === 0 && interactive(k) && k.floor === 0).sort((a, b) => a.peakRate - b.peakRate)[0];
  const k10 = pick(keys, used, (k) => k === quietest);
  // 03:00 UTC on the last simulated Sunday: an hour a business-hours key never uses.
  const sunday = START + (Math.floor((days - 7) / 7) * 7 + 6) * DAY + 3 * HOUR;
  add('anomaly.unusual-hour', sunday, 10, k10, (t, id, r) => ev(k10, id, spread(t, 3, r), (rr) => exchangeFor(k10, rr), r));
  const fresh: SimKey = { ...keys[1]!, index: -1, fp: 'fp:0000000000c0ffee', user: 'user-new', ips: ['172.20.1.5'], startDay: days };
  add('anomaly.new-key-burst', base + 17 * HOUR, 10, fresh, (t, id, r) => ev(fresh, id, spread(t, 90, r), (rr) => exchangeFor(fresh, rr), r));
  const k12 = pick(keys, used, quiet);
  add('anomaly.error-rate-spike', base + 17 * HOUR + 20 * MINUTE, 5, k12, (t, id, r) => ev(k12, id, spread(t, 20, r), (rr) => exchangeFor(k12, rr, { status: 400, tokens: 0 }), r));
  const k13 = pick(keys, used, (k) => k.kind === 'service');
  add('anomaly.prompt-size-outlier', base + 17 * HOUR + 40 * MINUTE, 2, k13, (t, id, r) => ev(k13, id, spread(t, 1, r), (rr) => exchangeFor(k13, rr, { promptChars: 250_000 }), r));
  void rng;
  return incidents;
}

export interface SimOptions {
  readonly days: number;
  readonly keys: number;
  readonly seed: number;
}

export interface IncidentResult {
  readonly expected: string;
  readonly detected: boolean;
  readonly timeToDetectMs?: number;
}

export interface SimReport {
  readonly options: SimOptions;
  readonly requests: number;
  readonly identityDays: number;
  readonly incidents: readonly IncidentResult[];
  readonly falseAlarms: readonly { time: number; detector: string; summary: string }[];
  readonly relatedFindings: number;
  readonly elapsedMs: number;
}

function related(inc: Incident, ev: SimEvent, time: number): boolean {
  if (time < inc.start || time > inc.end + 30 * MINUTE) return false;
  if (ev.incident === inc.id) return true;
  const k = inc.key;
  if (!k) return ev.exchange.identity.clientIp === inc.ip;
  const who = ev.exchange.identity;
  return who.keyFingerprint === k.fp || who.user === k.user || who.team === k.team;
}

export async function runSimulation(opts: SimOptions): Promise<SimReport> {
  const started = performance.now();
  const rng = mulberry32(opts.seed);
  const keys = makeKeys(opts.keys, rng, opts.days);
  const incidents = makeIncidents(keys, opts.days, rng);
  const store = new MemoryStore({ maxEntries: 1_000_000, maxBytes: 1024 ** 3 });
  const detectors: Detector[] = createAnomalyDetectors({ config: parseAnomalyConfig({}), store });
  const firstHit = new Map<number, number>();
  const falseAlarms: { time: number; detector: string; summary: string }[] = [];
  const active = new Set<string>();
  let identityDays = 0;
  let requests = 0;
  let relatedFindings = 0;
  const end = START + opts.days * DAY;
  for (let t = START; t < end; t += MINUTE) {
    if ((t - START) % DAY === 0) {
      identityDays += active.size;
      active.clear();
    }
    const events: SimEvent[] = [];
    for (const k of keys) {
      const n = poisson(rng, rateAt(k, t));
      for (let i = 0; i < n; i++) events.push({ time: t + Math.floor(rng() * MINUTE), exchange: exchangeFor(k, rng), key: k });
    }
    for (const inc of incidents) if (t >= inc.start && t < inc.end) events.push(...inc.events(t, rng));
    events.sort((a, b) => a.time - b.time);
    for (const ev of events) {
      requests++;
      const who = ev.exchange.identity;
      if (ev.incident === undefined) {
        active.add(`k${who.keyFingerprint}`).add(`u${who.user}`).add(`t${who.team}`);
      }
      const ctx = { now: ev.time };
      for (const d of detectors) {
        const found: Finding[] = await d.detect(ev.exchange, ctx);
        for (const f of found) {
          // The incident whose traffic this is, else one it spilled over to (same key, user or team).
          const inc = (ev.incident !== undefined ? incidents[ev.incident] : undefined) ?? incidents.find((i) => related(i, ev, ev.time));
          if (inc) {
            relatedFindings++;
            if (f.detector === inc.expected && !firstHit.has(inc.id)) firstHit.set(inc.id, ev.time);
          } else {
            falseAlarms.push({ time: ev.time, detector: f.detector, summary: f.summary ?? f.title });
          }
        }
      }
    }
  }
  identityDays += active.size;
  await store.close();
  return {
    options: opts,
    requests,
    identityDays,
    incidents: incidents.map((i) => {
      const hit = firstHit.get(i.id);
      return hit === undefined ? { expected: i.expected, detected: false } : { expected: i.expected, detected: true, timeToDetectMs: hit - i.start };
    }),
    falseAlarms,
    relatedFindings,
    elapsedMs: performance.now() - started,
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function formatReport(r: SimReport): string {
  const lines: string[] = [];
  const detected = r.incidents.filter((i) => i.detected);
  const ttds = detected.map((i) => i.timeToDetectMs! / 1000);
  const fa = (1000 * r.falseAlarms.length) / Math.max(1, r.identityDays);
  lines.push(`anomaly simulator: ${r.options.days} days, ${r.options.keys} keys, seed ${r.options.seed}: ${r.requests.toLocaleString('en-US')} requests in ${(r.elapsedMs / 1000).toFixed(1)} s`);
  lines.push('');
  lines.push('| incident | detected | time to detect (simulated) |');
  lines.push('|---|---|---|');
  for (const i of r.incidents) lines.push(`| ${i.expected} | ${i.detected ? 'yes' : 'NO'} | ${i.detected ? `${(i.timeToDetectMs! / 1000).toFixed(0)} s` : '–'} |`);
  lines.push('');
  lines.push(`detection rate: ${detected.length}/${r.incidents.length} (target: all)`);
  lines.push(`median time to detect: ${median(ttds).toFixed(0)} s simulated (target ≤ 120 s); max ${Math.max(...ttds).toFixed(0)} s`);
  lines.push(`false alarms: ${r.falseAlarms.length} over ${r.identityDays} identity-days (keys, users, teams) = ${fa.toFixed(2)} per 1,000 identity-days (target ≤ 1)`);
  lines.push(`other findings during incidents (same key/user/team): ${r.relatedFindings}`);
  for (const f of r.falseAlarms.slice(0, 20)) lines.push(`  false alarm ${new Date(f.time).toISOString()} ${f.detector}: ${f.summary}`);
  return lines.join('\n');
}


if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const report = await runSimulation({ days: numberFlag(argv, 'days', 21), keys: numberFlag(argv, 'keys', 48), seed: numberFlag(argv, 'seed', 1) });
  process.stdout.write(formatReport(report) + '\n');
  const ok = report.incidents.every((i) => i.detected) && (1000 * report.falseAlarms.length) / report.identityDays <= 1;
  process.exitCode = ok ? 0 : 1;
}
