import { Agent, request } from 'node:http';
import { PLANNED_AT_HEADER } from './clock.js';
import type { PlannedRequest } from './traffic.js';

// Plays a traffic plan against a URL at the planned times, a bounded number
// of requests in flight, reading every response to its end.

export interface SendStats {
  sent: number;
  failed: number;
  readonly byStatus: Map<number, number>;
}

const MAX_IN_FLIGHT = 48;

/** Sends each request at `startAt + request.at` (ms since epoch). */
export async function playTraffic(plan: readonly PlannedRequest[], target: URL, startAt: number, signal: AbortSignal): Promise<SendStats> {
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  const stats: SendStats = { sent: 0, failed: 0, byStatus: new Map() };
  const inFlight = new Set<Promise<void>>();
  try {
    for (const planned of plan) {
      if (signal.aborted) break;
      const wait = startAt + planned.at - Date.now();
      if (wait > 0) await sleep(wait, signal);
      if (signal.aborted) break;
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      const p = sendOne(planned, target, agent, startAt + planned.at).then(
        (status) => {
          stats.sent++;
          stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
        },
        () => {
          stats.failed++;
        },
      );
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    await Promise.all(inFlight);
  } finally {
    agent.destroy();
  }
  return stats;
}

function sendOne(planned: PlannedRequest, target: URL, agent: Agent, plannedAt: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(planned.path, target);
    // The embedded demo judges each request at the time it was planned for (see onTimeLapse).
    const headers: Record<string, string> = { ...planned.headers, [PLANNED_AT_HEADER]: String(plannedAt) };
    if (planned.body !== undefined) headers['content-length'] = String(Buffer.byteLength(planned.body));
    const req = request(url, { method: planned.method, headers, agent, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(planned.body);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
