import { createRequire } from 'node:module';
import type * as LogsGrpc from '@opentelemetry/exporter-logs-otlp-grpc';
import type * as LogsHttp from '@opentelemetry/exporter-logs-otlp-http';
import type * as LogsProto from '@opentelemetry/exporter-logs-otlp-proto';
import type * as MetricsGrpc from '@opentelemetry/exporter-metrics-otlp-grpc';
import type * as MetricsHttp from '@opentelemetry/exporter-metrics-otlp-http';
import type * as MetricsProto from '@opentelemetry/exporter-metrics-otlp-proto';
import type * as TracesGrpc from '@opentelemetry/exporter-trace-otlp-grpc';
import type * as TracesHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as TracesProto from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { PeriodicExportingMetricReader, type MetricProducer, type MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

// OpenTelemetry set-up from the standard OTEL_* variables. The variables are
// read from the object passed in and handed to the SDK through constructor
// options: nothing here writes process.env or registers global providers.

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
type Signal = 'logs' | 'traces' | 'metrics';

export interface OtelHandles {
  readonly resource: Resource;
  /** Batches log records to OTLP (for any log record besides alerts). */
  readonly loggerProvider: LoggerProvider;
  /** Present when traces are exported (OTEL_TRACES_EXPORTER is not `none`). */
  readonly tracerProvider?: BasicTracerProvider;
  /** Builds the OTLP periodic reader around the metrics' producer: `createMetrics({ readers: [createMetricReader] })`; absent when OTEL_METRICS_EXPORTER=none. */
  readonly createMetricReader?: (producer: MetricProducer) => MetricReader;
  /** A fresh OTLP log exporter; the alert sink drives one with its own queue and retries. Undefined when OTEL_LOGS_EXPORTER=none. */
  createLogExporter?(): LogRecordExporter;
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

// The exporters (gRPC above all) weigh tens of MB of memory: they are loaded
// only when OTLP export is configured, and only the protocol in use.
const load = createRequire(import.meta.url);
const GrpcLogExporter = (...a: ConstructorParameters<typeof LogsGrpc.OTLPLogExporter>) => {
  const Exporter = (load('@opentelemetry/exporter-logs-otlp-grpc') as typeof LogsGrpc).OTLPLogExporter;
  return new Exporter(...a);
};
const JsonLogExporter = (...a: ConstructorParameters<typeof LogsHttp.OTLPLogExporter>) => {
  const Exporter = (load('@opentelemetry/exporter-logs-otlp-http') as typeof LogsHttp).OTLPLogExporter;
  return new Exporter(...a);
};
const ProtoLogExporter = (...a: ConstructorParameters<typeof LogsProto.OTLPLogExporter>) => {
  const Exporter = (load('@opentelemetry/exporter-logs-otlp-proto') as typeof LogsProto).OTLPLogExporter;
  return new Exporter(...a);
};
const GrpcMetricExporter = (...a: ConstructorParameters<typeof MetricsGrpc.OTLPMetricExporter>) => {
  const Exporter = (load('@opentelemetry/exporter-metrics-otlp-grpc') as typeof MetricsGrpc).OTLPMetricExporter;
  return new Exporter(...a);
};
const JsonMetricExporter = (...a: ConstructorParameters<typeof MetricsHttp.OTLPMetricExporter>) => {
  const Exporter = (load('@opentelemetry/exporter-metrics-otlp-http') as typeof MetricsHttp).OTLPMetricExporter;
  return new Exporter(...a);
};
const ProtoMetricExporter = (...a: ConstructorParameters<typeof MetricsProto.OTLPMetricExporter>) => {
  const Exporter = (load('@opentelemetry/exporter-metrics-otlp-proto') as typeof MetricsProto).OTLPMetricExporter;
  return new Exporter(...a);
};
const GrpcTraceExporter = (...a: ConstructorParameters<typeof TracesGrpc.OTLPTraceExporter>) => {
  const Exporter = (load('@opentelemetry/exporter-trace-otlp-grpc') as typeof TracesGrpc).OTLPTraceExporter;
  return new Exporter(...a);
};
const JsonTraceExporter = (...a: ConstructorParameters<typeof TracesHttp.OTLPTraceExporter>) => {
  const Exporter = (load('@opentelemetry/exporter-trace-otlp-http') as typeof TracesHttp).OTLPTraceExporter;
  return new Exporter(...a);
};
const ProtoTraceExporter = (...a: ConstructorParameters<typeof TracesProto.OTLPTraceExporter>) => {
  const Exporter = (load('@opentelemetry/exporter-trace-otlp-proto') as typeof TracesProto).OTLPTraceExporter;
  return new Exporter(...a);
};

const SIGNAL_PATH: Record<Signal, string> = { logs: 'v1/logs', traces: 'v1/traces', metrics: 'v1/metrics' };

/** Returns undefined when OpenTelemetry export is off: no OTLP endpoint, or OTEL_SDK_DISABLED=true. */
export function createOtel(env: Env = process.env): OtelHandles | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const anyEndpoint =
    env.OTEL_EXPORTER_OTLP_ENDPOINT ??
    env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT ??
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
  if (!anyEndpoint) return undefined;

  const resource = resourceFromAttributes({
    ...parsePairs(env.OTEL_RESOURCE_ATTRIBUTES),
    'service.name': env.OTEL_SERVICE_NAME ?? 'gatewatch',
  });

  const logsOn = exporterEnabled(env.OTEL_LOGS_EXPORTER);
  const createLogExporter = logsOn ? () => logExporter(env) : undefined;
  const loggerProvider = new LoggerProvider({
    resource,
    processors: createLogExporter ? [new BatchLogRecordProcessor({ exporter: createLogExporter() })] : [],
  });

  const tracerProvider = exporterEnabled(env.OTEL_TRACES_EXPORTER)
    ? new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(traceExporter(env))] })
    : undefined;

  const interval = positiveInt(env.OTEL_METRIC_EXPORT_INTERVAL, 60_000);
  const createMetricReader = exporterEnabled(env.OTEL_METRICS_EXPORTER)
    ? (producer: MetricProducer) =>
        new PeriodicExportingMetricReader({
          exporter: metricExporter(env),
          exportIntervalMillis: interval,
          // The SDK refuses a timeout longer than the interval.
          exportTimeoutMillis: Math.min(interval, positiveInt(env.OTEL_METRIC_EXPORT_TIMEOUT, 30_000)),
          metricProducers: [producer],
        })
    : undefined;

  return {
    resource,
    loggerProvider,
    tracerProvider,
    createMetricReader,
    createLogExporter,
    // The metric reader is shut down by the MeterProvider it was given to.
    shutdown: async () => {
      await Promise.allSettled([loggerProvider.shutdown(), tracerProvider?.shutdown()]);
    },
  };
}

function exporterEnabled(value: string | undefined): boolean {
  return (value ?? 'otlp').trim().toLowerCase() !== 'none';
}

export function protocolFor(env: Env, signal: Signal): OtlpProtocol {
  const raw = (env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf')
    .trim()
    .toLowerCase();
  if (raw === 'grpc' || raw === 'http/json') return raw;
  return 'http/protobuf';
}

/** The URL for one signal, as the OTLP exporter spec builds it. */
export function endpointFor(env: Env, signal: Signal): string {
  const specific = env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`];
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? defaultEndpoint(protocolFor(env, signal));
  if (protocolFor(env, signal) === 'grpc') return base;
  return `${base.replace(/\/+$/, '')}/${SIGNAL_PATH[signal]}`;
}

function defaultEndpoint(protocol: OtlpProtocol): string {
  return protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318';
}

interface HttpOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMillis: number;
}

function httpOptions(env: Env, signal: Signal): HttpOptions {
  const upper = signal.toUpperCase();
  return {
    url: endpointFor(env, signal),
    headers: { ...parsePairs(env.OTEL_EXPORTER_OTLP_HEADERS), ...parsePairs(env[`OTEL_EXPORTER_OTLP_${upper}_HEADERS`]) },
    timeoutMillis: positiveInt(env[`OTEL_EXPORTER_OTLP_${upper}_TIMEOUT`] ?? env.OTEL_EXPORTER_OTLP_TIMEOUT, 10_000),
  };
}

function grpcOptions(env: Env, signal: Signal): { url: string; timeoutMillis: number } {
  const { url, timeoutMillis } = httpOptions(env, signal);
  return { url, timeoutMillis };
}

function logExporter(env: Env): LogRecordExporter {
  switch (protocolFor(env, 'logs')) {
    case 'grpc':
      return GrpcLogExporter(grpcOptions(env, 'logs'));
    case 'http/json':
      return JsonLogExporter(httpOptions(env, 'logs'));
    case 'http/protobuf':
      return ProtoLogExporter(httpOptions(env, 'logs'));
  }
}

function traceExporter(env: Env): SpanExporter {
  switch (protocolFor(env, 'traces')) {
    case 'grpc':
      return GrpcTraceExporter(grpcOptions(env, 'traces'));
    case 'http/json':
      return JsonTraceExporter(httpOptions(env, 'traces'));
    case 'http/protobuf':
      return ProtoTraceExporter(httpOptions(env, 'traces'));
  }
}

function metricExporter(env: Env): MetricsGrpc.OTLPMetricExporter | MetricsHttp.OTLPMetricExporter | MetricsProto.OTLPMetricExporter {
  switch (protocolFor(env, 'metrics')) {
    case 'grpc':
      return GrpcMetricExporter(grpcOptions(env, 'metrics'));
    case 'http/json':
      return JsonMetricExporter(httpOptions(env, 'metrics'));
    case 'http/protobuf':
      return ProtoMetricExporter(httpOptions(env, 'metrics'));
  }
}

/** Parses `k=v,k2=v2` (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS), values percent-decoded. */
export function parsePairs(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    try {
      out[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      out[key] = pair.slice(eq + 1).trim();
    }
  }
  return out;
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = raw === undefined ? NaN : Number.parseInt(raw, 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
