import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Notification } from '../notification.js';
import { DeliveryError, postJson, type SinkTransport } from './sink.js';

// Generic webhook: one JSON body per notification, `{"type":"firing"|"update"|"resolved","alert":{…}}`,
// signed with HMAC-SHA256 over `${timestamp}.${body}`:
//   X-Gatewatch-Timestamp: <unix seconds>
//   X-Gatewatch-Signature: sha256=<hex>
// The receiver recomputes the HMAC over the raw body and refuses a
// timestamp outside its tolerance (replay). See docs/alerts.md.

export const SIGNATURE_HEADER = 'x-gatewatch-signature';
export const TIMESTAMP_HEADER = 'x-gatewatch-timestamp';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function webhookBody(n: Notification): string {
  return JSON.stringify({ type: n.kind, alert: n.alert });
}

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Verifies a delivery: constant-time comparison and a timestamp within `toleranceSeconds` of now. */
export function verifyWebhookSignature(
  secret: string,
  timestampHeader: string | undefined,
  body: string,
  signatureHeader: string | undefined,
  nowMs = Date.now(),
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  if (!timestampHeader || !signatureHeader || !/^\d{1,12}$/.test(timestampHeader)) return false;
  const timestamp = Number(timestampHeader);
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signatureHeader);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface WebhookSinkOptions {
  readonly name: string;
  readonly url: string;
  readonly secret: string | null;
  readonly timeoutMs: number;
}

export function createWebhookTransport(opts: WebhookSinkOptions): SinkTransport {
  return {
    name: opts.name,
    async send(batch, signal) {
      const body = webhookBody(batch[0]!);
      const headers: Record<string, string> = { 'user-agent': 'gatewatch' };
      if (opts.secret) {
        const ts = Math.floor(Date.now() / 1000);
        headers[TIMESTAMP_HEADER] = String(ts);
        headers[SIGNATURE_HEADER] = signWebhook(opts.secret, ts, body);
      }
      const res = await postJson(opts.url, body, headers, opts.timeoutMs, signal);
      if (res.status >= 200 && res.status < 300) return;
      if (res.status === 429) throw new DeliveryError('GW_ERR_SINK_RATE_LIMITED', 'webhook rate limited (429)', 'retry', res.retryAfterMs ?? 1000);
      if (res.status === 410) throw new DeliveryError('GW_ERR_SINK_DISABLED', 'webhook is gone (410)', 'disable');
      if (res.status === 408 || res.status >= 500) throw new DeliveryError('GW_ERR_SINK_UNAVAILABLE', `webhook answered ${res.status}`, 'retry', res.retryAfterMs);
      throw new DeliveryError('GW_ERR_SINK_REJECTED', `webhook refused the alert (${res.status})`, 'reject');
    },
  };
}
