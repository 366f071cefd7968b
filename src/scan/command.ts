import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { makeExchange } from '../exchange.js';
import { viewExchange } from '../providers/view.js';
import { SEVERITIES, severityRank, type Detector, type Exchange, type Finding, type Severity } from '../types.js';

// `gatewatch scan`: the detection engine offline, over files or stdin.
// Plain mode scans each input as one text; --jsonl reads one JSON object per
// line: {"id", "text", "role"?} or an exchange {"id", "path", "request",
// "response"} scanned as the proxy would. Output never holds a secret:
// detector, category, severity, offsets and fingerprint only.

export interface ScanIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

const USAGE = 'usage: gatewatch scan [--jsonl] [--fail-on info|low|medium|high|critical] [FILE...]   (no FILE or "-": stdin)\n';

/** Exit codes: 0 ran (whatever it found), 1 --fail-on threshold reached, 2 usage or input error. */
export async function runScan(argv: string[], io: ScanIo, detectors: Detector[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { jsonl: { type: 'boolean', default: false }, 'fail-on': { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.stderr.write(`gatewatch scan: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const failOn = args.values['fail-on'];
  if (failOn !== undefined && !SEVERITIES.includes(failOn as Severity)) {
    io.stderr.write(`gatewatch scan: --fail-on must be one of ${SEVERITIES.join(', ')}\n`);
    return 2;
  }
  const threshold = failOn === undefined ? Infinity : severityRank(failOn as Severity);
  const inputs = args.positionals.length > 0 ? args.positionals : ['-'];
  const state = { worst: -1, inputError: false };

  for (const name of inputs) {
    const stream = name === '-' ? io.stdin : createReadStream(name, { encoding: 'utf8' });
    try {
      if (args.values.jsonl) await scanJsonl(stream, name, io, detectors, state);
      else await scanPlain(stream, name, io, detectors, state);
    } catch (e) {
      io.stderr.write(`gatewatch scan: ${name}: ${(e as NodeJS.ErrnoException).code ?? 'error'}: cannot read input\n`);
      state.inputError = true;
    }
  }
  if (state.inputError) return 2;
  return state.worst >= threshold ? 1 : 0;
}

interface ScanState {
  worst: number;
  inputError: boolean;
}

async function runDetectors(detectors: readonly Detector[], ex: Exchange): Promise<Finding[]> {
  const ctx = { now: Date.now() };
  const out: Finding[] = [];
  for (const d of detectors) out.push(...(await d.detect(ex, ctx)));
  return out;
}

function textExchange(id: string, text: string, role: string | undefined): Exchange {
  const part = { path: 'text', role: 'user' as const, text };
  return role === 'completion' ? makeExchange({ id, completion: [{ ...part, role: 'assistant' }] }) : makeExchange({ id, prompt: [part] });
}

function bodyBuffer(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
}

function looksLikeSse(body: unknown): boolean {
  return typeof body === 'string' && /^\s*(?:data|event|id|:)/.test(body);
}

interface ExchangeLine {
  id?: unknown;
  path?: unknown;
  method?: unknown;
  status?: unknown;
  request?: unknown;
  response?: unknown;
}

/** An exchange line, viewed by the provider adapters exactly as the proxy would view it. */
export function exchangeFromLine(line: ExchangeLine, id: string): Exchange {
  const full = typeof line.path === 'string' ? line.path : '/v1/chat/completions';
  const q = full.indexOf('?');
  const path = q < 0 ? full : full.slice(0, q);
  const query = q < 0 ? '' : full.slice(q + 1);
  const method = typeof line.method === 'string' ? line.method : 'POST';
  const status = typeof line.status === 'number' ? line.status : 200;
  const requestHeaders = { 'content-type': 'application/json' };
  const responseHeaders = { 'content-type': looksLikeSse(line.response) ? 'text/event-stream' : 'application/json' };
  const view = viewExchange({
    method,
    path,
    query,
    requestHeaders,
    responseHeaders,
    status,
    requestBody: bodyBuffer(line.request),
    responseBody: bodyBuffer(line.response),
  });
  return makeExchange({
    id,
    method,
    path,
    query,
    requestHeaders,
    responseHeaders,
    status,
    provider: view.provider,
    operation: view.operation,
    ...(view.model !== undefined ? { model: view.model } : {}),
    stream: view.stream,
    prompt: view.prompt,
    completion: view.completion,
    toolCalls: view.toolCalls,
    usage: view.usage,
  });
}

function note(state: ScanState, findings: readonly Finding[]): void {
  for (const f of findings) state.worst = Math.max(state.worst, severityRank(f.severity));
}

async function scanJsonl(stream: NodeJS.ReadableStream, name: string, io: ScanIo, detectors: Detector[], state: ScanState): Promise<void> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const raw of lines) {
    n++;
    if (raw.trim() === '') continue;
    let line: ExchangeLine & { text?: unknown; role?: unknown };
    try {
      line = JSON.parse(raw) as typeof line;
      if (typeof line !== 'object' || line === null) throw new Error('not an object');
    } catch {
      io.stderr.write(`gatewatch scan: ${name}:${n}: not a JSON object, skipped\n`);
      io.stdout.write(`${JSON.stringify({ id: null, line: n, error: 'not a JSON object' })}\n`);
      continue;
    }
    const id = line.id === undefined ? `${name}:${n}` : String(line.id);
    const isExchange = line.request !== undefined || line.response !== undefined;
    if (!isExchange && typeof line.text !== 'string') {
      io.stderr.write(`gatewatch scan: ${name}:${n}: needs "text" or "request"/"response", skipped\n`);
      io.stdout.write(`${JSON.stringify({ id: line.id ?? null, line: n, error: 'needs "text" or "request"/"response"' })}\n`);
      continue;
    }
    const ex = isExchange ? exchangeFromLine(line, id) : textExchange(id, line.text as string, typeof line.role === 'string' ? line.role : undefined);
    const findings = await runDetectors(detectors, ex);
    note(state, findings);
    const out = findings.map((f) => ({
      detector: f.detector,
      category: f.category,
      severity: f.severity,
      start: f.location?.start ?? null,
      end: f.location?.end ?? null,
      fingerprint: f.fingerprint ?? null,
      ...(isExchange ? { path: f.location?.path ?? null } : {}),
    }));
    io.stdout.write(`${JSON.stringify({ id: line.id ?? id, findings: out })}\n`);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding?.('utf8');
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

function lineCol(text: string, offset: number): string {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return `${line}:${offset - last}`;
}

async function scanPlain(stream: NodeJS.ReadableStream, name: string, io: ScanIo, detectors: Detector[], state: ScanState): Promise<void> {
  const text = await readAll(stream);
  const findings = await runDetectors(detectors, textExchange(name, text, undefined));
  note(state, findings);
  for (const f of findings) {
    const at = f.location?.start !== undefined ? `:${lineCol(text, f.location.start)}` : '';
    io.stdout.write(`${name === '-' ? '<stdin>' : name}${at}\t${f.severity}\t${f.detector}\t${f.fingerprint ?? '-'}\t${f.title}\n`);
  }
}
