import type { Role } from '../types.js';
import type { Adapter, BodyFormat, Route, StreamEvent, StreamReader } from './adapter.js';
import { AnthropicStreamReader, messagesFormat } from './anthropic.js';
import type { ViewBuilder } from './builder.js';
import { asArray, asNumber, asObject, asString, jsonText, safeDecode, toRole } from './json.js';

// Amazon Bedrock runtime: `/model/{modelId}/invoke[-with-response-stream]`
// with each model family's native body (Anthropic messages, Amazon Nova and
// Titan, Meta Llama, Mistral, Cohere), and `/model/{modelId}/converse[-stream]`
// with the uniform Converse shape. Streams arrive as AWS event-stream frames;
// view.ts decodes them into StreamEvents named by `:event-type`.

const MAX_BLOCKS = 10_000;

// ---------------------------------------------------------------- converse

function converseContent(content: unknown, path: string, role: Role, add: (path: string, role: Role, text: string | undefined) => void): void {
  const blocks = asArray(content) ?? [];
  for (let j = 0; j < blocks.length; j++) {
    const b = asObject(blocks[j]);
    if (!b) continue;
    const at = `${path}[${j}]`;
    add(`${at}.text`, role, asString(b.text));
    const toolUse = asObject(b.toolUse);
    if (toolUse) add(`${at}.toolUse.input`, 'assistant', jsonText(toolUse.input));
    const toolResult = asObject(b.toolResult);
    const results = asArray(toolResult?.content) ?? [];
    for (let k = 0; k < results.length; k++) {
      const r = asObject(results[k]);
      add(`${at}.toolResult.content[${k}].text`, 'tool', asString(r?.text));
      if (r?.json !== undefined) add(`${at}.toolResult.content[${k}].json`, 'tool', jsonText(r.json));
    }
    add(`${at}.reasoningContent.reasoningText.text`, 'assistant', asString(asObject(asObject(b.reasoningContent)?.reasoningText)?.text));
    add(`${at}.guardContent.text.text`, role, asString(asObject(asObject(b.guardContent)?.text)?.text));
    // image, document and video blocks carry bytes: nothing to read as text.
  }
}

function converseRequest(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  const add = out.addPrompt.bind(out);
  converseContent(b.system, 'request.body.system', 'system', add);
  const messages = asArray(b.messages) ?? [];
  for (let i = 0; i < messages.length; i++) {
    const m = asObject(messages[i]);
    if (m) converseContent(m.content, `request.body.messages[${i}].content`, toRole(m.role), add);
  }
}

function converseUsage(out: ViewBuilder, usage: unknown): void {
  const u = asObject(usage);
  if (u) out.setUsage({ promptTokens: u.inputTokens, completionTokens: u.outputTokens, totalTokens: u.totalTokens });
}

function converseResponse(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  converseUsage(out, b.usage);
  const base = 'response.body.output.message.content';
  const blocks = asArray(asObject(asObject(b.output)?.message)?.content) ?? [];
  for (let j = 0; j < blocks.length; j++) {
    const block = asObject(blocks[j]);
    const toolUse = asObject(block?.toolUse);
    if (toolUse) {
      out.addToolCall(`${base}[${j}].toolUse.input`, asString(toolUse.name), jsonText(toolUse.input ?? {}), asString(toolUse.toolUseId));
      continue;
    }
    out.addCompletion(`${base}[${j}].text`, asString(block?.text));
    out.addCompletion(
      `${base}[${j}].reasoningContent.reasoningText.text`,
      asString(asObject(asObject(block?.reasoningContent)?.reasoningText)?.text),
    );
  }
}

interface ConverseBlock {
  text: string;
  toolInput: string;
  tool?: { id?: string; name?: string };
}

/** Converse stream events (messageStart, contentBlockStart/Delta/Stop, metadata), named or wrapped. */
class ConverseStreamReader implements StreamReader {
  private readonly blocks = new Map<number, ConverseBlock>();
  private usage: unknown;

  event(e: StreamEvent): void {
    let name = e.name;
    let d = asObject(e.data);
    // Nova's invoke stream and some SDK dumps wrap each event as `{ "contentBlockDelta": {...} }`.
    if (d && !Object.hasOwn(EVENT_NAMES, name)) {
      const key = Object.keys(d).find((k) => Object.hasOwn(EVENT_NAMES, k));
      if (key) {
        name = key;
        d = asObject(d[key]);
      }
    }
    if (!d) return;
    switch (name) {
      case 'contentBlockStart': {
        const toolUse = asObject(asObject(d.start)?.toolUse);
        const block = this.block(asNumber(d.contentBlockIndex) ?? 0);
        if (block && toolUse) block.tool = { id: asString(toolUse.toolUseId), name: asString(toolUse.name) };
        break;
      }
      case 'contentBlockDelta': {
        const delta = asObject(d.delta);
        const block = this.block(asNumber(d.contentBlockIndex) ?? 0);
        if (!block || !delta) break;
        block.text += asString(delta.text) ?? asString(asObject(delta.reasoningContent)?.text) ?? '';
        const input = asString(asObject(delta.toolUse)?.input);
        if (input !== undefined) {
          block.tool ??= {};
          block.toolInput += input;
        }
        break;
      }
      case 'metadata':
        this.usage = d.usage;
        break;
      default:
        break;
    }
  }

  private block(index: number): ConverseBlock | undefined {
    let b = this.blocks.get(index);
    if (b === undefined && this.blocks.size < MAX_BLOCKS) this.blocks.set(index, (b = { text: '', toolInput: '' }));
    return b;
  }

  finish(out: ViewBuilder): void {
    converseUsage(out, this.usage);
    for (const [i, b] of [...this.blocks].sort((x, y) => x[0] - y[0])) {
      const at = `response.stream.content[${i}]`;
      out.addCompletion(`${at}.text`, b.text);
      if (b.tool) out.addToolCall(`${at}.toolUse.input`, b.tool.name, b.toolInput, b.tool.id);
    }
  }
}

const EVENT_NAMES: Readonly<Record<string, true>> = {
  messageStart: true,
  contentBlockStart: true,
  contentBlockDelta: true,
  contentBlockStop: true,
  messageStop: true,
  metadata: true,
};

export const converseFormat: BodyFormat = {
  request: converseRequest,
  response: converseResponse,
  stream: () => new ConverseStreamReader(),
};

// ---------------------------------------------------------------- invoke (native model bodies)

/** Anthropic-on-Bedrock bodies carry `anthropic_version`; its responses are `type: "message"`. */
function isAnthropicBody(b: Readonly<Record<string, unknown>>): boolean {
  return b.anthropic_version !== undefined || b.type === 'message';
}

/** Plain-text prompt fields of the non-chat model families. */
const PROMPT_FIELDS = ['prompt', 'inputText', 'message'] as const;

function invokeRequest(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  if (isAnthropicBody(b)) {
    messagesFormat.request(b, out);
    return;
  }
  if (b.messages !== undefined || b.system !== undefined) converseRequest(b, out); // Amazon Nova
  for (const field of PROMPT_FIELDS) out.addPrompt(`request.body.${field}`, 'user', asString(b[field]));
  const history = asArray(b.chat_history) ?? []; // Cohere Command R
  for (let i = 0; i < history.length; i++) {
    const h = asObject(history[i]);
    out.addPrompt(`request.body.chat_history[${i}].message`, h?.role === 'CHATBOT' ? 'assistant' : 'user', asString(h?.message));
  }
  const texts = asArray(b.texts) ?? []; // Cohere embed
  for (let i = 0; i < texts.length; i++) out.addPrompt(`request.body.texts[${i}]`, 'user', asString(texts[i]));
}

/** Completion text fields of the non-chat families, per element of their result arrays. */
function invokeResponse(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  if (isAnthropicBody(b)) {
    messagesFormat.response(b, out);
    return;
  }
  if (b.output !== undefined) converseResponse(b, out); // Amazon Nova
  out.addCompletion('response.body.generation', asString(b.generation)); // Llama
  out.addCompletion('response.body.completion', asString(b.completion)); // Claude v2 text
  out.addCompletion('response.body.text', asString(b.text)); // Cohere Command R
  readList(b.outputs, 'response.body.outputs', 'text', out); // Mistral
  readList(b.results, 'response.body.results', 'outputText', out); // Titan
  readList(b.generations, 'response.body.generations', 'text', out); // Cohere Command
  out.setUsage({ promptTokens: b.prompt_token_count, completionTokens: b.generation_token_count });
  const titan = asObject(asArray(b.results)?.[0]);
  out.setUsage({ promptTokens: b.inputTextTokenCount, completionTokens: titan?.tokenCount });
}

function readList(list: unknown, path: string, field: string, out: ViewBuilder): void {
  const items = asArray(list) ?? [];
  for (let i = 0; i < items.length; i++) out.addCompletion(`${path}[${i}].${field}`, asString(asObject(items[i])?.[field]));
}

/**
 * invoke-with-response-stream chunks: each is one of the model family's own
 * stream objects (Anthropic events with `type`, Nova's wrapped converse
 * events, or `{generation}` / `{outputText}` / `{outputs}` pieces of text).
 */
class InvokeStreamReader implements StreamReader {
  private readonly anthropic = new AnthropicStreamReader();
  private readonly converse = new ConverseStreamReader();
  private readonly texts = new Map<string, string>();
  private metrics: unknown;

  event(e: StreamEvent): void {
    const d = asObject(e.data);
    if (!d) return;
    const metrics = d['amazon-bedrock-invocationMetrics'];
    if (metrics) this.metrics = metrics;
    if (typeof d.type === 'string') {
      this.anthropic.event({ name: d.type, data: d });
      return;
    }
    this.converse.event({ name: 'chunk', data: d });
    this.append('response.stream.generation', d.generation);
    this.append('response.stream.outputText', d.outputText);
    this.append('response.stream.completion', d.completion);
    this.append('response.stream.text', d.text);
    const outputs = asArray(d.outputs) ?? asArray(d.generations) ?? [];
    for (let i = 0; i < outputs.length; i++) this.append(`response.stream.outputs[${i}].text`, asObject(outputs[i])?.text);
  }

  private append(path: string, text: unknown): void {
    if (typeof text !== 'string') return;
    const prior = this.texts.get(path);
    if (prior !== undefined || this.texts.size < MAX_BLOCKS) this.texts.set(path, (prior ?? '') + text);
  }

  finish(out: ViewBuilder): void {
    this.anthropic.finish(out);
    this.converse.finish(out);
    for (const [path, text] of this.texts) out.addCompletion(path, text);
    const m = asObject(this.metrics);
    if (m) out.setUsage({ promptTokens: m.inputTokenCount, completionTokens: m.outputTokenCount });
  }
}

export const invokeFormat: BodyFormat = {
  request: invokeRequest,
  response: invokeResponse,
  stream: () => new InvokeStreamReader(),
};

// ---------------------------------------------------------------- routes

const MODEL_ROUTE = /\/model\/([^/]+)\/(invoke|invoke-with-response-stream|converse|converse-stream)\/?$/;

export function bedrockRoute(path: string): Route | undefined {
  const m = MODEL_ROUTE.exec(path);
  if (!m) return undefined;
  const pathModel = safeDecode(m[1] ?? '');
  switch (m[2]) {
    case 'invoke':
      return { operation: 'invoke', format: invokeFormat, pathModel };
    case 'invoke-with-response-stream':
      return { operation: 'invoke', format: invokeFormat, pathModel, stream: true };
    case 'converse':
      return { operation: 'converse', format: converseFormat, pathModel };
    default:
      return { operation: 'converse', format: converseFormat, pathModel, stream: true };
  }
}

export const bedrockAdapter: Adapter = {
  provider: 'bedrock',
  route: (path) => bedrockRoute(path),
};
