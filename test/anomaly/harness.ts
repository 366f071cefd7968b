import { parseAnomalyConfig } from '../../src/detect/anomaly/config.js';
import { createAnomalyDetectors } from '../../src/detect/anomaly/index.js';
import { makeExchange } from '../../src/exchange.js';
import { MemoryStore } from '../../src/state/memory.js';
import type { StateStore } from '../../src/state/types.js';
import type { Detector, Exchange, Finding, Identity } from '../../src/types.js';

// Drives the anomaly detectors on an injected clock.

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const T0 = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC
export const FP = 'fp:00000000000000aa';

export interface Harness {
  readonly detectors: Detector[];
  readonly store: StateStore;
  /** Runs every detector on one exchange at `now`; returns the findings. */
  send(now: number, fields?: ExchangeFields): Promise<Finding[]>;
}

export interface ExchangeFields extends Partial<Omit<Exchange, 'identity'>> {
  identity?: Partial<Identity>;
}

export function exchange(fields: ExchangeFields = {}): Exchange {
  const { identity, ...rest } = fields;
  return makeExchange({
    model: 'gpt-4o-mini',
    usage: { promptTokens: 300, completionTokens: 100 },
    prompt: [{ path: 'request.body.messages[0].content', role: 'user', text: 'x'.repeat(1200) }],
    ...rest,
    identity: { clientIp: '10.1.2.3', keyFingerprint: FP, user: 'alice', team: 'search', userAgent: 'OpenAI/Python 1.40.0', ...identity },
  });
}

export function harness(opts: { only?: string[]; overrides?: Record<string, object>; store?: StateStore } = {}): Harness {
  const store = opts.store ?? new MemoryStore({ maxEntries: 100_000, maxBytes: 1 << 28 });
  const all = createAnomalyDetectors({ config: parseAnomalyConfig({ overrides: opts.overrides ?? {} }), store });
  const detectors = opts.only ? all.filter((d) => opts.only!.includes(d.id)) : all;
  return {
    detectors,
    store,
    async send(now, fields) {
      const ex = exchange(fields);
      const out: Finding[] = [];
      for (const d of detectors) out.push(...(await d.detect(ex, { now })));
      return out;
    },
  };
}

/** Steady traffic: `perMinute` requests a minute from `from` for `minutes`; returns all findings. */
export async function steady(h: Harness, from: number, minutes: number, perMinute: number, fields?: (i: number) => ExchangeFields): Promise<Finding[]> {
  const out: Finding[] = [];
  let i = 0;
  for (let m = 0; m < minutes; m++) {
    for (let k = 0; k < perMinute; k++) {
      out.push(...(await h.send(from + m * MIN + Math.floor((k * MIN) / perMinute), fields?.(i++))));
    }
  }
  return out;
}

export function ids(findings: readonly Finding[]): string[] {
  return [...new Set(findings.map((f) => f.detector))].sort();
}
