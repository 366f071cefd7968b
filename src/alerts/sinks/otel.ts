import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Attributes, type Context, type Tracer } from '@opentelemetry/api';
import { SeverityNumber, type LogAttributes } from '@opentelemetry/api-logs';
import { LoggerProvider, type LogRecordExporter, type LogRecordProcessor, type ReadableLogRecord, type SdkLogRecord } from '@opentelemetry/sdk-logs';
import type { Resource } from '@opentelemetry/resources';
import type { Alert, Exchange, Severity } from '../../types.js';
import { scrub } from '../build.js';
import type { Notification } from '../notification.js';
import { DeliveryError, type SinkTransport } from './sink.js';

// OpenTelemetry: each notification becomes a log record (event name
// `gatewatch.alert`, severity mapped, attributes under `gatewatch.*` plus
// the GenAI `gen_ai.*` ones) exported over OTLP by the shared sink queue, so
// a collector outage is retried and bounded like any other sink. Each
// exchange also gets a span built from its timings, with one event per alert.

export const ALERT_EVENT_NAME = 'gatewatch.alert';

const SEVERITY_NUMBER: Record<Severity, SeverityNumber> = {
  info: SeverityNumber.INFO,
  low: SeverityNumber.INFO4,
  medium: SeverityNumber.WARN,
  high: SeverityNumber.ERROR,
  critical: SeverityNumber.FATAL,
};

/** Attributes of an alert, flat, under `gatewatch.` and the GenAI conventions. No secret can be here: the alert holds none. */
export function alertAttributes(alert: Alert, kind: Notification['kind']): Attributes {
  const a: Attributes = {
    'gatewatch.alert.id': alert.id,
    'gatewatch.alert.status': kind,
    'gatewatch.detector': alert.detector,
    'gatewatch.category': alert.category,
    'gatewatch.severity': alert.severity,
    'gatewatch.title': alert.title,
    'gatewatch.count': alert.count,
    'gatewatch.first_seen': alert.first_seen,
    'gatewatch.last_seen': alert.last_seen,
  };
  const put = (key: string, value: string | undefined) => {
    if (value !== undefined) a[key] = value;
  };
  put('gatewatch.runbook', alert.runbook);
  put('gatewatch.identity.key_fingerprint', alert.identity.key_fingerprint);
  put('gatewatch.identity.key_type', alert.identity.key_type);
  put('gatewatch.identity.client_ip', alert.identity.client_ip);
  put('gatewatch.identity.user', alert.identity.user);
  put('gatewatch.identity.team', alert.identity.team);
  put('gatewatch.request.method', alert.request.method);
  put('gatewatch.request.path', alert.request.path);
  put('gatewatch.request.direction', alert.request.direction);
  put('gatewatch.request.trace_id', alert.request.trace_id);
  put('gen_ai.provider.name', alert.request.provider);
  put('gen_ai.request.model', alert.request.model);
  if (alert.evidence.length > 0) {
    a['gatewatch.evidence.location'] = alert.evidence.map((e) => e.location);
    a['gatewatch.evidence.kind'] = alert.evidence.map((e) => e.kind);
    a['gatewatch.evidence.fingerprint'] = alert.evidence.map((e) => e.fingerprint ?? '');
  }
  return a;
}

/** Collects the records a LoggerProvider builds, so they can be exported by our own queue. */
class CaptureProcessor implements LogRecordProcessor {
  captured: SdkLogRecord[] = [];
  onEmit(record: SdkLogRecord): void {
    this.captured.push(record);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export interface OtelTransportOptions {
  readonly exporter: LogRecordExporter;
  readonly resource: Resource;
  readonly batchSize: number;
}

export function createOtelTransport(opts: OtelTransportOptions): SinkTransport {
  const capture = new CaptureProcessor();
  const provider = new LoggerProvider({ resource: opts.resource, processors: [capture] });
  const logger = provider.getLogger('gatewatch.alerts');
  return {
    name: 'otel',
    batchSize: (queued) => Math.min(queued, opts.batchSize),
    send(batch) {
      capture.captured = [];
      for (const n of batch) {
        logger.emit({
          eventName: ALERT_EVENT_NAME,
          timestamp: Date.parse(n.alert.time),
          severityNumber: n.kind === 'resolved' ? SeverityNumber.INFO : SEVERITY_NUMBER[n.alert.severity],
          severityText: n.alert.severity.toUpperCase(),
          body: n.alert.summary || n.alert.title,
          attributes: alertAttributes(n.alert, n.kind) as LogAttributes,
        });
      }
      const records: ReadableLogRecord[] = capture.captured;
      capture.captured = [];
      return new Promise<void>((resolve, reject) => {
        opts.exporter.export(records, (result) => {
          // ExportResultCode.SUCCESS is 0.
          if (result.code === 0) resolve();
          else reject(new DeliveryError('GW_ERR_SINK_UNAVAILABLE', `OTLP export failed (${errorCode(result.error)})`, 'retry'));
        });
      });
    },
    async close() {
      await Promise.allSettled([provider.shutdown(), opts.exporter.shutdown()]);
    },
  };
}

function errorCode(err: Error | undefined): string {
  if (!err) return 'unknown';
  const e = err as Error & { code?: string | number };
  return e.code !== undefined ? String(e.code) : err.name;
}

export interface ExchangeAlertEvent {
  readonly alert: Alert;
  /** True when the alert was folded into an open incident (no new notification). */
  readonly deduplicated: boolean;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * Records a span for one exchange from its timings (it has already ended)
 * with `gen_ai.*` attributes and one `gatewatch.alert` event per alert.
 * Joins the client's trace when the exchange carries a trace id.
 */
export function createExchangeSpanRecorder(tracer: Tracer): (exchange: Exchange, events: readonly ExchangeAlertEvent[]) => void {
  return (exchange, events) => {
    // The model name comes from the client: scrubbed like in alerts.
    const model = scrub(exchange.model);
    const name = model ? `${exchange.operation} ${model}` : exchange.operation;
    const attributes: Attributes = {
      'gen_ai.operation.name': exchange.operation,
      'gen_ai.provider.name': exchange.provider,
      'http.request.method': exchange.method,
      'http.response.status_code': exchange.status,
      'gatewatch.route': exchange.route.name,
      'gatewatch.direction': exchange.direction,
      'gatewatch.alerts': events.length,
    };
    if (model) attributes['gen_ai.request.model'] = model;
    if (exchange.usage.promptTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = exchange.usage.promptTokens;
    if (exchange.usage.completionTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = exchange.usage.completionTokens;
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: exchange.timings.start, attributes }, parentContext(exchange.traceId));
    for (const e of events) {
      span.addEvent(ALERT_EVENT_NAME, { ...alertAttributes(e.alert, 'firing'), 'gatewatch.deduplicated': e.deduplicated }, exchange.timings.end);
    }
    span.end(Math.max(exchange.timings.end, exchange.timings.start));
  };
}

function parentContext(traceId: string | undefined): Context {
  const id = traceId?.toLowerCase();
  if (!id || !TRACE_ID.test(id) || /^0+$/.test(id)) return ROOT_CONTEXT;
  // Only the trace id is known: the remote parent's span id is made up, so
  // the span lands in the client's trace.
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: id, spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED, isRemote: true });
}
