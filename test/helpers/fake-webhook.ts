import type { IncomingMessage, ServerResponse } from 'node:http';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../src/alerts/sinks/webhook.js';
import { startUpstream } from './servers.js';

// A local receiver for the generic webhook that checks each delivery's
// signature and timestamp the way docs/alerts.md tells users to: bad or
// stale signatures get 401. It can also answer slowly or with 500.

export interface WebhookDelivery {
  readonly body: string;
  readonly json: unknown;
  readonly valid: boolean;
  readonly headers: IncomingMessage['headers'];
}

export interface FakeWebhook {
  readonly url: string;
  readonly deliveries: WebhookDelivery[];
  /** Bodies of deliveries with a valid signature. */
  readonly accepted: unknown[];
  mode: 'ok' | 'slow' | 'error';
  slowMs: number;
  close(): Promise<void>;
}

export async function startFakeWebhook(secret: string): Promise<FakeWebhook> {
  const deliveries: WebhookDelivery[] = [];
  const accepted: unknown[] = [];
  const state = { mode: 'ok' as FakeWebhook['mode'], slowMs: 1000 };
  const upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const valid = verifyWebhookSignature(secret, header(req, TIMESTAMP_HEADER), body, header(req, SIGNATURE_HEADER));
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      deliveries.push({ body, json, valid, headers: req.headers });
      if (state.mode === 'error') return void res.writeHead(500).end();
      if (!valid) return void res.writeHead(401).end('bad signature');
      const ok = () => {
        accepted.push(json);
        res.writeHead(204).end();
      };
      if (state.mode === 'slow') setTimeout(ok, state.slowMs).unref();
      else ok();
    });
  });
  const { port } = upstream;
  return {
    url: `http://127.0.0.1:${port}/hooks/gatewatch`,
    deliveries,
    accepted,
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
    },
    get slowMs() {
      return state.slowMs;
    },
    set slowMs(ms: number) {
      state.slowMs = ms;
    },
    close: upstream.close,
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
