import { pathToFileURL } from 'node:url';
import { parseAnomalyConfig } from '../src/detect/anomaly/config.js';
import { createAnomalyDetectors } from '../src/detect/anomaly/index.js';
import { makeExchange } from '../src/exchange.js';
import { MemoryStore } from '../src/state/memory.js';
import type { Detector, Exchange, Finding } from '../src/types.js';
import { numberFlag } from './flags.js';

// What the anomaly detectors cost with the in-memory store:
//  - memory per tracked identity (target ≤ 1 KB), measured on the heap after GC;
//  - detector time per request (target ≤ 5 µs for all detectors together),
//    next to the cost of merely building the exchange as a baseline.
//
//   node --expose-gc dist/bench/anomaly-cost.js [--keys N] [--requests N]

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5);
const UAS = ['OpenAI/Python 1.40.0', 'litellm/1.50.1', 'OpenAI/JS 4.67.3'];
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4'];
const PROMPT = 'x'.repeat(10_000);

function exchangeFor(key: number, i: number): Exchange {
  return makeExchange({
    identity: {
      clientIp: `10.${(key >> 8) & 255}.${key & 255}.${1 + (i % 2)}`,
      keyFingerprint: `fp:${key.toString(16).padStart(16, '0')}`,
      user: `user-${key}`,
      team: `team-${key % 50}`,
      userAgent: UAS[key % UAS.length]!,
    },
    model: MODELS[(key + (i % 2)) % MODELS.length]!,
    status: i % 97 === 0 ? 500 : 200,
    usage: { promptTokens: 200 + (i % 300), completionTokens: 80 },
    prompt: [{ path: 'request.body.messages[0].content', role: 'user', text: PROMPT.slice(0, 500 + ((i * 37) % 3000)) }],
  });
}

// With the in-memory store the detectors answer synchronously; only a
// promise (the Redis store) is awaited, as the detection engine does.
async function run(detectors: Detector[], ex: Exchange, now: number): Promise<number> {
  let n = 0;
  for (const d of detectors) {
    const r = d.detect(ex, { now });
    n += (Array.isArray(r) ? r : await r).length;
  }
  return n;
}

function heap(): number {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc');
  g();
  g();
  return process.memoryUsage().heapUsed;
}

export interface CostReport {
  readonly keys: number;
  readonly identities: number;
  readonly records: number;
  readonly bytesPerIdentity: number;
  readonly bytesPerKey: number;
  /** Bytes the cache allocates up front per possible entry (maxEntries), included above for the entries in use. */
  readonly fixedPerSlot: number;
  readonly requests: number;
  readonly usPerRequest: number;
  readonly usBaseline: number;
  readonly usPerDetector: ReadonlyMap<string, number>;
}

export async function measure(keys: number, requests: number): Promise<CostReport> {
  // Memory: every key sends 12 requests spread over two hours (two IPs, two models).
  // Whatever the cache allocates up front for maxEntries is counted separately (it now grows
  // its arrays as entries arrive, so this is about 0).
  const maxEntries = 40 * keys;
  const mark = heap();
  const store = new MemoryStore({ maxEntries, maxBytes: 8 * 1024 ** 3 });
  const detectors = createAnomalyDetectors({ config: parseAnomalyConfig({}), store });
  const fixedPerSlot = (heap() - mark) / maxEntries;
  const before = heap();
  for (let i = 0; i < 12; i++) {
    for (let k = 0; k < keys; k++) await run(detectors, exchangeFor(k, i), T0 + i * 10 * MIN + k);
  }
  const used = heap() - before;
  // Tracked identities: keys, users (one per key), client IPs (two per key), teams.
  const identities = keys + keys + 2 * keys + Math.min(50, keys);
  const records = store.size;

  // Time: steady traffic over 1,000 warm keys on an advancing clock.
  const warm = Math.min(keys, 1000);
  const exchanges = Array.from({ length: 4096 }, (_, i) => exchangeFor(i % warm, i));
  let now = T0 + 3 * 3_600_000;
  for (let i = 0; i < 20_000; i++) await run(detectors, exchanges[i & 4095]!, (now += 5));
  let t = performance.now();
  for (let i = 0; i < requests; i++) await run(detectors, exchanges[i & 4095]!, (now += 5));
  const usPerRequest = ((performance.now() - t) * 1000) / requests;
  t = performance.now();
  let sink = 0;
  for (let i = 0; i < requests; i++) sink += exchangeFor(i % warm, i).status;
  const usBaseline = ((performance.now() - t) * 1000) / requests;
  if (sink === 0) throw new Error('unreachable');
  const usPerDetector = new Map<string, number>();
  for (const d of detectors) {
    const n = Math.floor(requests / 4);
    t = performance.now();
    for (let i = 0; i < n; i++) sink += (d.detect(exchanges[i & 4095]!, { now: (now += 5) }) as Finding[]).length;
    usPerDetector.set(d.id, ((performance.now() - t) * 1000) / n);
  }
  await store.close();
  return {
    keys,
    identities,
    records,
    bytesPerIdentity: (used + fixedPerSlot * records) / identities,
    bytesPerKey: (used + fixedPerSlot * records) / keys,
    fixedPerSlot,
    requests,
    usPerRequest,
    usBaseline,
    usPerDetector,
  };
}

export function formatCost(r: CostReport): string {
  const lines = [
    `memory: ${r.keys.toLocaleString('en-US')} keys → ${r.identities.toLocaleString('en-US')} tracked identities (key, user, 2 client IPs each, 50 teams), ${r.records.toLocaleString('en-US')} cache entries (one per identity)`,
    `  ${r.bytesPerIdentity.toFixed(0)} bytes per tracked identity (target ≤ 1024); ${r.bytesPerKey.toFixed(0)} bytes per key with everything it brings`,
    `  (includes what the cache allocates up front per possible entry, ${r.fixedPerSlot.toFixed(0)} bytes, for each record in use)`,
    `time: ${r.requests.toLocaleString('en-US')} requests, all ${r.usPerDetector.size} anomaly detectors: ${r.usPerRequest.toFixed(2)} µs per request (target ≤ 5 µs)`,
    `  baseline, building the exchange alone: ${r.usBaseline.toFixed(2)} µs (detectors cost ${(r.usPerRequest / r.usBaseline).toFixed(1)}× that)`,
  ];
  for (const [id, us] of [...r.usPerDetector].sort((a, b) => b[1] - a[1])) lines.push(`  ${id.padEnd(30)} ${us.toFixed(2)} µs`);
  return lines.join('\n');
}


if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const report = await measure(numberFlag(argv, 'keys', 20_000), numberFlag(argv, 'requests', 200_000));
  process.stdout.write(formatCost(report) + '\n');
}
