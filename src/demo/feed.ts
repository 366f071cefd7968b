import { WebSocket } from 'ws';
import type { Alert } from '../types.js';

// The terminal side of the demo: subscribes to an admin listener's alert
// stream and prints one readable line per new alert.

export interface AlertFeed {
  /** Firing alerts seen so far, in order. */
  readonly alerts: readonly Alert[];
  close(): void;
}

const COLUMNS = { severity: 9, detector: 36 };

// Alert text is attacker-influenced: keep control characters (terminal escapes) off the screen.
function clean(text: string | undefined): string {
  return (text ?? '').replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

export function formatAlertLine(alert: Alert, elapsedMs: number): string {
  const who = alert.identity.key_fingerprint ? `key ${alert.identity.key_fingerprint}` : alert.identity.client_ip ? `ip ${alert.identity.client_ip}` : '';
  const where = [alert.request.method, alert.request.path, alert.request.model].filter(Boolean).join(' ');
  return [
    `[+${(elapsedMs / 1000).toFixed(1).padStart(5)}s]`,
    clean(alert.severity.toUpperCase()).padEnd(COLUMNS.severity),
    clean(alert.detector).padEnd(COLUMNS.detector),
    clean(alert.title),
    who && `· ${clean(who)}`,
    where && `· ${clean(where)}`,
  ]
    .filter(Boolean)
    .join(' ');
}

export async function subscribeAlerts(opts: {
  url: string;
  token?: string;
  startedAt: number;
  write: (line: string) => void;
}): Promise<AlertFeed> {
  const alerts: Alert[] = [];
  const ws = new WebSocket(opts.url, opts.token ? { headers: { authorization: `Bearer ${opts.token}` } } : {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`alert stream refused the connection: HTTP ${res.statusCode}`)));
  });
  ws.on('error', () => undefined);
  ws.on('message', (data) => {
    let message: { type?: string; alert?: Alert };
    try {
      message = JSON.parse(data.toString()) as { type?: string; alert?: Alert };
    } catch {
      return;
    }
    if (message.type !== 'firing' || !message.alert) return;
    alerts.push(message.alert);
    opts.write(`${formatAlertLine(message.alert, Date.now() - opts.startedAt)}\n`);
  });
  return { alerts, close: () => ws.close() };
}
