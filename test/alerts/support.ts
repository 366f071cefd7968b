import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { parseAlertsConfig, type AlertsConfig } from '../../src/alerts/config.js';
import { makeExchange } from '../../src/exchange.js';
import { createFingerprinter } from '../../src/fingerprint.js';
import type { Metrics } from '../../src/telemetry/metrics.js';
import type { Exchange, Finding } from '../../src/types.js';

// Shared pieces of the alert tests.

export const fingerprint = createFingerprinter('alerts-test-key');

export function config(overrides: Record<string, unknown> = {}): AlertsConfig {
  return parseAlertsConfig({ sinks: { stdout: { enabled: false } }, ...overrides });
}

export function exchange(fields: Partial<Exchange> = {}): Exchange {
  return makeExchange({
    method: 'POST',
    path: '/v1/chat/completions',
    provider: 'openai',
    operation: 'chat',
    model: 'gpt-4o-mini',
    identity: { clientIp: '10.1.2.3', keyFingerprint: fingerprint('sk-caller-key-000000000000'), keyType: 'litellm-virtual', user: 'alice', team: 'red' },
    ...fields,
  });
}

/** A finding as a credential detector makes it for `secret` found at `path`. */
export function secretFinding(secret: string, path = 'request.body.messages[0].content', fields: Partial<Finding> = {}): Finding {
  return {
    detector: 'credential.openai-project-key',
    category: 'credential',
    severity: 'high',
    title: 'OpenAI project key in a prompt',
    kind: 'secret',
    location: { path, start: 10, end: 10 + secret.length },
    fingerprint: fingerprint(secret),
    keyType: 'openai',
    prefix: secret.slice(0, 8),
    length: secret.length,
    ...fields,
  };
}

export function anomalyFinding(fields: Partial<Finding> = {}): Finding {
  return { detector: 'anomaly.request-rate', category: 'anomaly', severity: 'medium', title: 'Request rate spike', kind: 'rate', location: { path: 'identity' }, ...fields };
}

/** Collects what a stream receives (stdout stand-in). */
export class TextCollector extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  lines(): unknown[] {
    return this.text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as unknown);
  }
}

/** The Prometheus text of a Metrics instance, as /metrics serves it. */
export async function scrape(metrics: Metrics): Promise<string> {
  const server = createServer((req, res) => metrics.handlePrometheus(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return await res.text();
  } finally {
    server.close();
  }
}

/** Value of one counter series (0 when absent). `name` without the `_total` suffix. */
export function counter(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_total{`) && !line.startsWith(`${name}{`)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

export { sleep, waitFor } from '../helpers/servers.js';
