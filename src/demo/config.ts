import { validateConfig } from '../config/load.js';
import type { Config } from '../config/types.js';

// The embedded gatewatch of `gatewatch demo`: shipped rules and defaults,
// no Redis, no collector, no Slack, alerts to the admin stream only. Only the
// anomaly warm-ups are shortened, since the demo has twenty minutes of
// (time-lapsed) history where production baselines want days.

export const DEMO_ANOMALY_OVERRIDES: Readonly<Record<string, object>> = {
  // 12 simulated minutes of history instead of 72 hours; a 30-minute baseline instead of 7 days.
  'request-rate-spike': { warmup: { minAgeHours: 0.2, minCount: 0 }, params: { baselineDays: 1 / 48, zScore: 6, peakFactor: 2, minRatio: 4 } },
  // 12 minutes and 20 requests of history instead of 72 hours and 200 requests.
  'new-network': { warmup: { minAgeHours: 0.2, minCount: 20 } },
  'new-user-agent': { warmup: { minAgeHours: 0.2, minCount: 20 } },
};

export function demoConfig(opts: { upstream: string; listen: string; admin: string; fingerprintKey: string; adminToken?: string }): Config {
  return validateConfig(
    {
      listen: opts.listen,
      admin: opts.admin,
      upstream: opts.upstream,
      fingerprintKey: opts.fingerprintKey,
      ...(opts.adminToken ? { adminToken: opts.adminToken } : {}),
      log: { level: 'warn' },
      anomaly: { overrides: structuredClone(DEMO_ANOMALY_OVERRIDES) },
      alerts: { groupWindowMs: 5000, sinks: { stdout: { enabled: false } } },
    },
    '(demo config)',
  );
}
