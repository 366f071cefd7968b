import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { answer, tokens, type Turn } from './model.js';

// A fake LLM upstream on loopback that speaks enough of the OpenAI
// (chat completions, models) and Anthropic (messages) APIs for gatewatch's
// adapters: JSON and SSE streaming, usage, 401 for revoked keys, 404 for
// unknown models.

export const DEMO_MODELS: readonly string[] = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1-mini', 'claude-3-5-haiku', 'claude-sonnet-4'];

export interface FakeUpstreamOptions {
  /** Keys the upstream refuses with 401 (the demo's revoked key). */
  readonly revokedKeys: ReadonlySet<string>;
  /** Delay between streamed chunks. */
  readonly chunkDelayMs?: number;
  readonly host?: string;
  readonly port?: number;
}

export interface FakeUpstream {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startFakeUpstream(opts: FakeUpstreamOptions): Promise<FakeUpstream> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    void handle(req, res, opts).catch(() => {
      if (!res.headersSent) json(res, 500, { error: { message: 'internal error' } });
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: FakeUpstreamOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const key = presentedKey(req);
  const anthropic = path === '/v1/messages';
  if (!key || opts.revokedKeys.has(key)) {
    return anthropic
      ? json(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } })
      : json(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } });
  }
  if (req.method === 'GET' && path === '/v1/models') {
    return json(res, 200, { object: 'list', data: DEMO_MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'demo' })) });
  }
  if (req.method !== 'POST' || (path !== '/v1/chat/completions' && !anthropic)) {
    return json(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } });
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8')) as Record<string, unknown>;
  } catch {
    return json(res, 400, { error: { message: 'body must be JSON', type: 'invalid_request_error' } });
  }
  const model = typeof body.model === 'string' ? body.model : '';
  if (!DEMO_MODELS.includes(model)) {
    return json(res, 404, { error: { message: `The model \`${model}\` does not exist`, type: 'invalid_request_error', code: 'model_not_found' } });
  }
  const turns = anthropic ? anthropicTurns(body) : openaiTurns(body);
  const text = answer(turns);
  const usage = { prompt: tokens(turns.map((t) => t.text).join(' ')), completion: tokens(text) };
  const delay = opts.chunkDelayMs ?? 4;
  if (anthropic) return body.stream === true ? anthropicStream(res, model, text, usage, delay) : anthropicJson(res, model, text, usage);
  return body.stream === true ? openaiStream(res, model, text, usage, delay) : openaiJson(res, model, text, usage);
}

function presentedKey(req: IncomingMessage): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (bearer) return bearer[1];
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((c) => (c && typeof c === 'object' && typeof (c as { text?: unknown }).text === 'string' ? (c as { text: string }).text : '')).join('\n');
  }
  return '';
}

function openaiTurns(body: Record<string, unknown>): Turn[] {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: unknown; content?: unknown }>) : [];
  return messages.map((m) => ({ role: String(m.role ?? 'user'), text: contentText(m.content) }));
}

function anthropicTurns(body: Record<string, unknown>): Turn[] {
  const system = contentText(body.system);
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: unknown; content?: unknown }>) : [];
  return [...(system ? [{ role: 'system', text: system }] : []), ...messages.map((m) => ({ role: String(m.role ?? 'user'), text: contentText(m.content) }))];
}

interface TokenUsage {
  readonly prompt: number;
  readonly completion: number;
}

function openaiJson(res: ServerResponse, model: string, text: string, usage: TokenUsage): void {
  json(res, 200, {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion },
  });
}

async function openaiStream(res: ServerResponse, model: string, text: string, usage: TokenUsage, delayMs: number): Promise<void> {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
  for (const piece of pieces(text)) {
    res.write(chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]));
    await pause(delayMs);
  }
  res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
  res.write(chunk([], { usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion } }));
  res.end('data: [DONE]\n\n');
}

function anthropicJson(res: ServerResponse, model: string, text: string, usage: TokenUsage): void {
  json(res, 200, {
    id: `msg_${randomUUID().replace(/-/g, '')}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    usage: { input_tokens: usage.prompt, output_tokens: usage.completion },
  });
}

async function anthropicStream(res: ServerResponse, model: string, text: string, usage: TokenUsage, delayMs: number): Promise<void> {
  const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(
    event('message_start', {
      message: { id: `msg_${randomUUID().replace(/-/g, '')}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage: { input_tokens: usage.prompt, output_tokens: 1 } },
    }),
  );
  res.write(event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
  for (const piece of pieces(text)) {
    res.write(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } }));
    await pause(delayMs);
  }
  res.write(event('content_block_stop', { index: 0 }));
  res.write(event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.completion } }));
  res.end(event('message_stop', {}));
}

/** Streamed pieces of a few words each, as models send them. */
function pieces(text: string): string[] {
  const words = text.split(/(?<=\s)/);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 3) out.push(words.slice(i, i + 3).join(''));
  return out;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) return void req.destroy(new Error('body too large'));
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
