import type { Operation, Provider, TextPart, ToolCall, Usage } from '../types.js';
import type { Adapter, BodyFormat, Route, StreamReader } from './adapter.js';
import { anthropicAdapter } from './anthropic.js';
import { azureAdapter } from './azure.js';
import { bedrockAdapter, bedrockRoute } from './bedrock.js';
import { ViewBuilder } from './builder.js';
import { parseEventStream } from './event-stream.js';
import { geminiAdapter, isGeminiModelPath } from './gemini.js';
import { looksBinary, printableRuns, readMultipart, readUrlencoded } from './form.js';
import { genericFormat, walkStrings } from './generic.js';
import { asObject, asString, parseJson, pathKey } from './json.js';
import { isLitellmPath, litellmAdapter } from './litellm.js';
import { openaiAdapter, openaiRoute } from './openai.js';
import { viewRealtimeMessage } from './realtime.js';
import { parseSse } from './sse.js';

// The view: turns a captured exchange into what detectors read — provider,
// operation, model, stream flag, prompt and completion parts with their JSON
// paths, tool calls and usage. It never throws: a body that does not parse,
// or an adapter that trips on an odd shape, degrades to raw text parts so the
// content is still inspected.

export interface RawExchange {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  /** Raw query without '?'. */
  readonly query: string;
  readonly requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly responseHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly status: number;
  /** Already decompressed; may be truncated. */
  readonly requestBody: Buffer;
  /** Already decompressed; may be truncated; SSE or AWS event-stream bytes when streamed. */
  readonly responseBody: Buffer;
  /** From the route table (egress routes name their provider); else detected from path and headers. */
  readonly providerHint?: Provider;
}

export interface ExchangeView {
  readonly provider: Provider;
  readonly operation: Operation;
  readonly model?: string;
  readonly stream: boolean;
  readonly prompt: TextPart[];
  readonly completion: TextPart[];
  readonly toolCalls: ToolCall[];
  readonly usage: Usage;
}

/** Every provider adapter, in one list. */
const ADAPTERS: readonly Adapter[] = [openaiAdapter, azureAdapter, anthropicAdapter, geminiAdapter, bedrockAdapter, litellmAdapter];

const BY_PROVIDER: ReadonlyMap<Provider, Adapter> = new Map(ADAPTERS.map((a) => [a.provider, a]));

function header(headers: RawExchange['requestHeaders'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function detectProvider(path: string, headers: RawExchange['requestHeaders']): Provider {
  if (bedrockRoute(path) || path.startsWith('/bedrock/')) return 'bedrock';
  if (path.includes('/openai/deployments/') || header(headers, 'api-key') !== undefined) return 'azure-openai';
  if (isGeminiModelPath(path) || header(headers, 'x-goog-api-key') !== undefined || /^\/(?:gemini|vertex[-_]ai)\//.test(path)) return 'gemini';
  if (header(headers, 'anthropic-version') !== undefined || header(headers, 'x-api-key') !== undefined || path.startsWith('/anthropic/')) {
    return 'anthropic';
  }
  if (isLitellmPath(path)) return 'litellm';
  if (path.startsWith('/v1/messages')) return 'anthropic';
  if (openaiRoute(path) && (path.startsWith('/v1/') || path.startsWith('/openai/'))) return 'openai';
  return 'unknown';
}

export function viewExchange(raw: RawExchange): ExchangeView {
  let provider: Provider = 'unknown';
  try {
    const routed = asRouted(raw);
    provider = providerOf(routed);
    return buildView(routed, provider);
  } catch {
    return rawView(raw, provider);
  }
}

const providerOf = (raw: RawExchange): Provider => raw.providerHint ?? detectProvider(raw.path, raw.requestHeaders);

const UNRESERVED_ESCAPE = /%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;

/**
 * The exchange with its path as the upstream routes it, so an encoded path
 * is classified like the one it stands for (otherwise `/v1/chat/completion%73`
 * would pass as an unknown operation, its prompt read only generically).
 * Escapes of unreserved characters are decoded (RFC 3986 §6.2.2.2). An
 * encoded slash is decoded only when that makes the path name an operation:
 * servers that decode the path before routing (uvicorn, under LiteLLM) take
 * `chat%2Fcompletions` for `chat/completions`, while a Bedrock model ARN
 * carries one inside its path segment.
 */
function asRouted(raw: RawExchange): RawExchange {
  if (!raw.path.includes('%')) return raw;
  const path = raw.path.replace(UNRESERVED_ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const routed = path === raw.path ? raw : { ...raw, path };
  if (!/%2f/i.test(path) || findRoute(routed, providerOf(routed)) !== undefined) return routed;
  const slashed = { ...raw, path: path.replace(/%2f/gi, '/') };
  return findRoute(slashed, providerOf(slashed)) !== undefined ? slashed : routed;
}

function buildView(raw: RawExchange, provider: Provider): ExchangeView {
  const route = findRoute(raw, provider);
  const format = route?.format ?? genericFormat;
  const out = new ViewBuilder();
  readRequest(raw, format, out);
  const streamed = readResponse(raw, format, out);
  const model = route?.pathModelIsAlias
    ? out.requestModel ?? out.responseModel ?? route.pathModel
    : out.requestModel ?? route?.pathModel ?? out.responseModel;
  let usage = out.usage();
  if (usage.promptTokens === undefined && usage.completionTokens === undefined) usage = bedrockHeaderUsage(raw) ?? usage;
  return {
    provider,
    operation: route?.operation ?? 'other',
    ...(model !== undefined ? { model } : {}),
    stream: streamed || out.streamRequested || route?.stream === true,
    prompt: out.prompt,
    completion: out.completion,
    toolCalls: out.toolCalls,
    usage,
  };
}

function findRoute(raw: RawExchange, provider: Provider): Route | undefined {
  try {
    return BY_PROVIDER.get(provider)?.route(raw.path, raw.query);
  } catch {
    return undefined;
  }
}

function readRequest(raw: RawExchange, format: BodyFormat, out: ViewBuilder): void {
  const body = raw.requestBody;
  if (body.length === 0) return;
  const contentType = header(raw.requestHeaders, 'content-type') ?? '';
  const addRaw = (path: string, text: string): void => out.addPrompt(path, 'unknown', text);
  if (/^\s*multipart\/form-data/i.test(contentType)) {
    for (const f of readMultipart(body, contentType, 'request.body')) addRaw(f.path, f.text);
    return;
  }
  const text = body.toString('utf8');
  const json = parseJson(text);
  if (json === undefined) {
    if (/^\s*application\/x-www-form-urlencoded/i.test(contentType)) {
      for (const f of readUrlencoded(body, 'request.body')) addRaw(f.path, f.text);
    } else if (!looksBinary(body, contentType)) {
      addRaw('request.body', text);
    } else {
      const runs = printableRuns(body);
      if (runs) addRaw('request.body.printable', runs);
    }
    return;
  }
  try {
    format.request(json, out);
  } catch {
    // An adapter tripped on an odd shape: fall through to the generic walk below.
  }
  // A known route whose body held nothing we recognise may still hold secrets.
  if (out.prompt.length === 0) walkStrings(json, 'request.body', addRaw);
}

/** Reads the response; returns true when it was streamed (SSE or AWS event-stream). */
function readResponse(raw: RawExchange, format: BodyFormat, out: ViewBuilder): boolean {
  const body = raw.responseBody;
  if (body.length === 0) return false;
  const contentType = (header(raw.responseHeaders, 'content-type') ?? '').toLowerCase();
  const kind =
    contentType.includes('application/vnd.amazon.eventstream') || looksLikeEventStream(body)
      ? 'event-stream'
      : contentType.includes('text/event-stream') || looksLikeSse(body)
        ? 'sse'
        : 'body';
  let json: unknown;
  try {
    if (kind === 'event-stream') readEventStream(body, format.stream(), out);
    else if (kind === 'sse') readSse(body, format.stream(), out);
    else {
      json = parseJson(body.toString('utf8'));
      if (json !== undefined) format.response(json, out);
    }
  } catch {
    // fall through to the fallback below
  }
  if (out.completion.length === 0 && out.toolCalls.length === 0) {
    // Error bodies and unknown shapes are still inspected: every string, or the raw text.
    // (An event stream's unparsed remainder was already added by readEventStream.)
    if (json !== undefined) walkStrings(json, 'response.body', (path, s) => out.addCompletion(path, s, 'unknown'));
    else if ((kind === 'body' && !looksBinary(body, contentType)) || (kind === 'sse' && !hasUsage(out))) {
      out.addCompletion('response.body', body.toString('utf8'), 'unknown');
    } else if (kind === 'body') {
      const runs = printableRuns(body);
      if (runs) out.addCompletion('response.body.printable', runs, 'unknown');
    }
  }
  return kind !== 'body';
}

function hasUsage(out: ViewBuilder): boolean {
  const u = out.usage();
  return u.promptTokens !== undefined || u.completionTokens !== undefined;
}

function readSse(body: Buffer, reader: StreamReader, out: ViewBuilder): void {
  let unparsed = '';
  for (const e of parseSse(body).events) {
    if (e.data === '[DONE]') continue;
    const data = parseJson(e.data);
    if (data === undefined) unparsed += e.data + '\n';
    else reader.event({ name: e.event, data });
  }
  reader.finish(out);
  out.addCompletion('response.stream', unparsed, 'unknown');
}

function readEventStream(body: Buffer, reader: StreamReader, out: ViewBuilder): void {
  const { messages, consumed } = parseEventStream(body);
  for (const m of messages) {
    const payload = m.payload.toString('utf8');
    if (m.headers[':message-type'] === 'exception') {
      out.addCompletion(pathKey('response.stream', m.headers[':exception-type'] ?? 'exception'), payload, 'unknown');
      continue;
    }
    const name = m.headers[':event-type'] ?? 'chunk';
    const data = parseJson(payload);
    // invoke-with-response-stream wraps each model chunk as base64 in `{"bytes": …}`.
    const bytes = asString(asObject(data)?.bytes);
    reader.event({ name, data: bytes !== undefined ? parseJson(Buffer.from(bytes, 'base64').toString('utf8')) : data });
  }
  reader.finish(out);
  if (consumed < body.length) out.addCompletion('response.body', body.toString('utf8', consumed), 'unknown');
}

/** An AWS event-stream frame starts with its total length and a header name such as `:event-type`. */
function looksLikeEventStream(body: Buffer): boolean {
  if (body.length < 16) return false;
  const total = body.readUInt32BE(0);
  return total >= 16 && total <= body.length && body[13] === 0x3a;
}

const SSE_START = /^\s*(?:data|event|id|retry):|^:/;

function looksLikeSse(body: Buffer): boolean {
  return SSE_START.test(body.toString('latin1', 0, Math.min(body.length, 64)));
}

function bedrockHeaderUsage(raw: RawExchange): Usage | undefined {
  const input = Number(header(raw.responseHeaders, 'x-amzn-bedrock-input-token-count'));
  const output = Number(header(raw.responseHeaders, 'x-amzn-bedrock-output-token-count'));
  if (!Number.isFinite(input) || !Number.isFinite(output) || header(raw.responseHeaders, 'x-amzn-bedrock-input-token-count') === undefined) {
    return undefined;
  }
  return { promptTokens: input, completionTokens: output, totalTokens: input + output };
}

/** Last resort when building the view failed: both bodies as one raw part each. */
function rawView(raw: RawExchange, provider: Provider): ExchangeView {
  const prompt: TextPart[] = [];
  const completion: TextPart[] = [];
  try {
    if (raw.requestBody.length > 0) prompt.push({ path: 'request.body', role: 'unknown', text: raw.requestBody.toString('utf8') });
    if (raw.responseBody.length > 0) completion.push({ path: 'response.body', role: 'unknown', text: raw.responseBody.toString('utf8') });
  } catch {
    // bodies were not buffers: nothing to inspect
  }
  return { provider, operation: 'other', stream: false, prompt, completion, toolCalls: [], usage: {} };
}

/** One WebSocket message (OpenAI Realtime events or unknown): parts to inspect. */
export function viewWsMessage(
  direction: 'client' | 'upstream',
  text: string,
  index: number,
): { prompt: TextPart[]; completion: TextPart[]; toolCalls: ToolCall[] } {
  try {
    return viewRealtimeMessage(direction, text, index);
  } catch {
    const part: TextPart = { path: `ws.${direction}[${index}]`, role: 'unknown', text: String(text) };
    return direction === 'client' ? { prompt: [part], completion: [], toolCalls: [] } : { prompt: [], completion: [part], toolCalls: [] };
  }
}
