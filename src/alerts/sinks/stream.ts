import type { WebSocket } from 'ws';
import type { Metrics } from '../../telemetry/metrics.js';
import type { Notification } from '../notification.js';
import type { Sink } from './sink.js';

// The live stream behind WebSocket /api/alerts/stream: each notification is
// one JSON text message `{"type":"firing"|"update"|"resolved","alert":{…}}`.
// A subscriber that does not keep up (its unsent bytes pass the bound) is
// disconnected instead of buffering without end.

export interface StreamHub extends Sink {
  /** False when the hub is full (the caller closes the socket). */
  subscribe(ws: WebSocket): boolean;
  readonly subscribers: number;
}

const OPEN = 1;
const POLICY_VIOLATION = 1008;
const GOING_AWAY = 1001;

export function createStreamHub(opts: { metrics: Metrics; maxClients: number; maxBufferedBytes: number }): StreamHub {
  const clients = new Set<WebSocket>();
  const ok = { sink: 'stream', status: 'ok' };
  const dropped = { sink: 'stream', status: 'dropped' };
  return {
    name: 'stream',
    depth: 0,
    get subscribers() {
      return clients.size;
    },
    subscribe(ws) {
      if (clients.size >= opts.maxClients) return false;
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
      return true;
    },
    enqueue(n: Notification) {
      if (clients.size === 0) return;
      const message = JSON.stringify({ type: n.kind, alert: n.alert });
      for (const ws of clients) {
        if (ws.readyState !== OPEN) continue;
        if (ws.bufferedAmount > opts.maxBufferedBytes) {
          opts.metrics.sinkAlerts.add(1, dropped);
          clients.delete(ws);
          ws.close(POLICY_VIOLATION, 'too slow');
          continue;
        }
        ws.send(message);
        opts.metrics.sinkAlerts.add(1, ok);
      }
    },
    async close() {
      for (const ws of clients) ws.close(GOING_AWAY, 'shutting down');
      clients.clear();
    },
  };
}
