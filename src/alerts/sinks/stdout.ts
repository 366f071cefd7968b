import pino, { type Logger } from 'pino';
import type { Notification } from '../notification.js';
import type { Sink } from './sink.js';
import type { Metrics } from '../../telemetry/metrics.js';

// stdout: one pino JSON line per notification. Writes go through pino's
// asynchronous destination with a bounded buffer: when stdout is blocked,
// lines beyond the buffer are dropped rather than held in memory.

const MAX_BUFFER_BYTES = 4 * 1024 * 1024;

export function createStdoutSink(opts: { metrics: Metrics; stream?: NodeJS.WritableStream }): Sink {
  const dest = opts.stream ?? pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFER_BYTES });
  const logger: Logger = pino({ name: 'gatewatch-alerts', base: undefined }, dest as pino.DestinationStream);
  const ok = { sink: 'stdout', status: 'ok' };
  return {
    name: 'stdout',
    depth: 0,
    enqueue(n: Notification) {
      logger.info({ alert_status: n.kind, alert: n.alert }, 'gatewatch alert');
      opts.metrics.sinkAlerts.add(1, ok);
    },
    async close() {
      logger.flush();
    },
  };
}
