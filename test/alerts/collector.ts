import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A real OpenTelemetry Collector (built by .ci/install-otelcol.sh) on
// loopback ports, writing what it receives as OTLP JSON lines to files in a
// temp dir, one file per signal.

export interface Collector {
  readonly httpEndpoint: string;
  readonly grpcEndpoint: string;
  readonly dir: string;
  /** Every OTLP JSON document the collector wrote for a signal. */
  read(signal: 'logs' | 'metrics' | 'traces'): unknown[];
  /** Raw text of every file the collector wrote (for the secret search). */
  rawText(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops and removes the temp dir. */
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export async function createCollector(bin: string): Promise<Collector> {
  const dir = mkdtempSync(join(tmpdir(), 'gatewatch-otelcol-'));
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const file = (signal: string) => join(dir, `${signal}.jsonl`);
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${grpcPort}
      http:
        endpoint: 127.0.0.1:${httpPort}
exporters:
  file/logs:
    path: ${file('logs')}
    flush_interval: 100ms
  file/metrics:
    path: ${file('metrics')}
    flush_interval: 100ms
  file/traces:
    path: ${file('traces')}
    flush_interval: 100ms
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file/logs]
    metrics:
      receivers: [otlp]
      exporters: [file/metrics]
    traces:
      receivers: [otlp]
      exporters: [file/traces]
`,
  );

  let child: ChildProcess | undefined;
  let stderr = '';

  const collector: Collector = {
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
    dir,
    read(signal) {
      if (!existsSync(file(signal))) return [];
      // The collector may be mid-write: a last, partial line is skipped.
      return readFileSync(file(signal), 'utf8')
        .split('\n')
        .flatMap((l) => {
          try {
            return l.trim() === '' ? [] : [JSON.parse(l) as unknown];
          } catch {
            return [];
          }
        });
    },
    rawText() {
      return (['logs', 'metrics', 'traces'] as const).map((s) => (existsSync(file(s)) ? readFileSync(file(s), 'utf8') : '')).join('\n');
    },
    async start() {
      stderr = '';
      child = spawn(bin, ['--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        if (child.exitCode !== null) throw new Error(`otelcol exited (${child.exitCode}): ${stderr}`);
        if ((await canConnect(httpPort)) && (await canConnect(grpcPort))) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`otelcol did not start: ${stderr}`);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    async dispose() {
      await collector.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return collector;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: unknown };
}

/** Attributes of an OTLP JSON item as a plain object. */
export function attrs(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = kv.value.stringValue ?? kv.value.intValue ?? kv.value.boolValue ?? kv.value.doubleValue ?? kv.value.arrayValue;
  return out;
}

export interface OtlpLogRecord {
  eventName?: string;
  severityNumber?: number;
  severityText?: string;
  body?: { stringValue?: string };
  attributes?: KeyValue[];
}

export function logRecords(docs: unknown[]): Array<OtlpLogRecord & { resource: Record<string, unknown> }> {
  const out: Array<OtlpLogRecord & { resource: Record<string, unknown> }> = [];
  for (const doc of docs as Array<{ resourceLogs?: Array<{ resource?: { attributes?: KeyValue[] }; scopeLogs?: Array<{ logRecords?: OtlpLogRecord[] }> }> }>) {
    for (const rl of doc.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) for (const r of sl.logRecords ?? []) out.push({ ...r, resource: attrs(rl.resource?.attributes) });
    }
  }
  return out;
}

export interface OtlpSpan {
  traceId: string;
  name: string;
  attributes?: KeyValue[];
  events?: Array<{ name: string; attributes?: KeyValue[] }>;
}

export function spans(docs: unknown[]): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const doc of docs as Array<{ resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: OtlpSpan[] }> }> }>) {
    for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) out.push(...(ss.spans ?? []));
  }
  return out;
}

export interface OtlpDataPoint {
  attributes?: KeyValue[];
  asInt?: string | number;
  asDouble?: number;
}

export function metricPoints(docs: unknown[], name: string): OtlpDataPoint[] {
  const out: OtlpDataPoint[] = [];
  for (const doc of docs as Array<{ resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Array<{ name: string; sum?: { dataPoints?: OtlpDataPoint[] } }> }> }> }>) {
    for (const rm of doc.resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) if (m.name === name) out.push(...(m.sum?.dataPoints ?? []));
    }
  }
  return out;
}
