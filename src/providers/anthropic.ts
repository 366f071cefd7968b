import type { Role } from '../types.js';
import type { Adapter, BodyFormat, Route, StreamEvent, StreamReader } from './adapter.js';
import type { ViewBuilder } from './builder.js';
import { genericFormat } from './generic.js';
import { asArray, asNumber, asObject, asString, isDataUri, jsonText, toRole } from './json.js';

// Anthropic's Messages API (and the legacy text completions). Bedrock's
// Anthropic models take the same bodies and stream the same event objects,
// so bedrock.ts reuses this format.

const MAX_BLOCKS = 10_000;

export function anthropicUsage(out: ViewBuilder, usage: unknown): void {
  const u = asObject(usage);
  if (!u) return;
  const input = asNumber(u.input_tokens);
  // input_tokens excludes cached tokens; the prompt's size is the sum.
  const prompt =
    input === undefined ? undefined : input + (asNumber(u.cache_creation_input_tokens) ?? 0) + (asNumber(u.cache_read_input_tokens) ?? 0);
  out.setUsage({ promptTokens: prompt, completionTokens: u.output_tokens });
}

type Add = (path: string, role: Role, text: string | undefined) => void;

/** Content blocks of a request message or a tool_result: text, documents, tool use and results. */
function readBlocks(content: unknown, path: string, role: Role, add: Add): void {
  if (typeof content === 'string') {
    add(path, role, content);
    return;
  }
  const blocks = asArray(content) ?? [];
  for (let j = 0; j < blocks.length; j++) {
    const b = asObject(blocks[j]);
    if (!b) continue;
    const at = `${path}[${j}]`;
    switch (b.type) {
      case 'text':
        add(`${at}.text`, role, asString(b.text));
        break;
      case 'thinking':
        add(`${at}.thinking`, role, asString(b.thinking));
        break;
      case 'tool_use':
      case 'server_tool_use':
        add(`${at}.input`, 'assistant', jsonText(b.input));
        break;
      case 'tool_result':
        readBlocks(b.content, `${at}.content`, 'tool', add);
        break;
      case 'image':
      case 'document': {
        // base64 sources are binary; text documents and remote URLs are inspectable.
        const source = asObject(b.source);
        if (source?.type === 'text') add(`${at}.source.data`, role, asString(source.data));
        else if (source?.type === 'content') readBlocks(source.content, `${at}.source.content`, role, add);
        else if (source?.type === 'url' && typeof source.url === 'string' && !isDataUri(source.url)) add(`${at}.source.url`, role, source.url);
        break;
      }
      default:
        break;
    }
  }
}

function messagesRequest(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  out.setModel('request', b.model);
  if (b.stream === true) out.streamRequested = true;
  const add: Add = out.addPrompt.bind(out);
  readBlocks(b.system, 'request.body.system', 'system', add);
  const messages = asArray(b.messages) ?? [];
  for (let i = 0; i < messages.length; i++) {
    const m = asObject(messages[i]);
    if (m) readBlocks(m.content, `request.body.messages[${i}].content`, toRole(m.role), add);
  }
}

function messagesResponse(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  out.setModel('response', b.model);
  anthropicUsage(out, b.usage);
  const blocks = asArray(b.content) ?? [];
  for (let j = 0; j < blocks.length; j++) {
    const block = asObject(blocks[j]);
    if (!block) continue;
    const at = `response.body.content[${j}]`;
    if (block.type === 'tool_use' || block.type === 'server_tool_use') {
      out.addToolCall(`${at}.input`, asString(block.name), jsonText(block.input), asString(block.id));
    } else {
      out.addCompletion(`${at}.text`, asString(block.text));
      out.addCompletion(`${at}.thinking`, asString(block.thinking));
    }
  }
}

interface Block {
  type: string;
  text: string;
  id?: string;
  name?: string;
  /** Tool input: the partial_json deltas concatenated, else the start block's input. */
  json: string;
  startInput?: unknown;
}

/** message_start / content_block_* / message_delta events, blocks keyed by index. */
export class AnthropicStreamReader implements StreamReader {
  private readonly blocks = new Map<number, Block>();
  /** message_start and message_delta usages, applied in order (later counts win). */
  private readonly usages: unknown[] = [];
  private model: string | undefined;

  event(e: StreamEvent): void {
    const d = asObject(e.data);
    if (!d) return;
    switch (asString(d.type) ?? e.name) {
      case 'message_start': {
        const m = asObject(d.message);
        this.model ??= asString(m?.model);
        if (m?.usage) this.usages.push(m.usage);
        break;
      }
      case 'content_block_start': {
        const cb = asObject(d.content_block);
        const block = this.block(asNumber(d.index) ?? 0, asString(cb?.type) ?? 'text');
        if (!block || !cb) break;
        block.id ??= asString(cb.id);
        block.name ??= asString(cb.name);
        block.text += asString(cb.text) ?? asString(cb.thinking) ?? '';
        block.startInput = cb.input;
        break;
      }
      case 'content_block_delta': {
        const delta = asObject(d.delta);
        const block = this.block(asNumber(d.index) ?? 0, delta?.type === 'input_json_delta' ? 'tool_use' : 'text');
        if (!block || !delta) break;
        if (typeof delta.text === 'string') block.text += delta.text;
        else if (typeof delta.thinking === 'string') block.text += delta.thinking;
        else if (typeof delta.partial_json === 'string') block.json += delta.partial_json;
        break;
      }
      case 'message_delta':
        if (d.usage && this.usages.length < MAX_BLOCKS) this.usages.push(d.usage);
        break;
      default:
        break;
    }
  }

  private block(index: number, type: string): Block | undefined {
    let b = this.blocks.get(index);
    if (b === undefined && this.blocks.size < MAX_BLOCKS) this.blocks.set(index, (b = { type, text: '', json: '' }));
    return b;
  }

  finish(out: ViewBuilder): void {
    out.setModel('response', this.model);
    for (const u of this.usages) anthropicUsage(out, u);
    for (const [i, b] of [...this.blocks].sort((x, y) => x[0] - y[0])) {
      const at = `response.stream.content[${i}]`;
      if (b.type === 'tool_use' || b.type === 'server_tool_use') {
        const args = b.json !== '' ? b.json : jsonText(b.startInput ?? {});
        out.addToolCall(`${at}.input`, b.name, args, b.id);
      } else {
        out.addCompletion(`${at}.${b.type === 'thinking' ? 'thinking' : 'text'}`, b.text);
      }
    }
  }
}

export const messagesFormat: BodyFormat = {
  request: messagesRequest,
  response: messagesResponse,
  stream: () => new AnthropicStreamReader(),
};

/** Legacy `/v1/complete`: a `prompt` string in, a `completion` string out (streamed as `completion` events). */
class CompleteStreamReader implements StreamReader {
  private text = '';
  private model: string | undefined;
  event(e: StreamEvent): void {
    const d = asObject(e.data);
    this.model ??= asString(d?.model);
    this.text += asString(d?.completion) ?? '';
  }
  finish(out: ViewBuilder): void {
    out.setModel('response', this.model);
    out.addCompletion('response.stream.completion', this.text);
  }
}

export const completeFormat: BodyFormat = {
  request(body, out) {
    const b = asObject(body);
    out.setModel('request', b?.model);
    if (b?.stream === true) out.streamRequested = true;
    out.addPrompt('request.body.prompt', 'user', asString(b?.prompt));
  },
  response(body, out) {
    const b = asObject(body);
    out.setModel('response', b?.model);
    out.addCompletion('response.body.completion', asString(b?.completion));
  },
  stream: () => new CompleteStreamReader(),
};

export function anthropicRoute(path: string): Route | undefined {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  if (p.endsWith('/messages') || p.endsWith('/messages/count_tokens')) return { operation: 'messages', format: messagesFormat };
  if (p.endsWith('/complete')) return { operation: 'completions', format: completeFormat };
  if (/\/models(?:\/[^/]+)?$/.test(p)) return { operation: 'models', format: genericFormat };
  return undefined;
}

export const anthropicAdapter: Adapter = {
  provider: 'anthropic',
  route: (path) => anthropicRoute(path),
};
