import type { Role } from '../types.js';
import type { Adapter, BodyFormat, Route, StreamEvent, StreamReader } from './adapter.js';
import type { ViewBuilder } from './builder.js';
import { genericFormat } from './generic.js';
import { asArray, asNumber, asObject, asString, isDataUri, jsonText, toRole } from './json.js';

// OpenAI's HTTP APIs: chat completions, responses, legacy completions,
// embeddings and realtime session creation (the realtime socket itself is
// read message by message in realtime.ts). Azure OpenAI and LiteLLM reuse
// these formats on their own paths.

const MAX_SLOTS = 10_000;

function openaiUsage(out: ViewBuilder, usage: unknown): void {
  const u = asObject(usage);
  if (!u) return;
  out.setUsage({
    promptTokens: u.prompt_tokens ?? u.input_tokens,
    completionTokens: u.completion_tokens ?? u.output_tokens,
    totalTokens: u.total_tokens,
  });
}

/** Chat message content: a string or an array of typed parts (text, image_url, input_audio, file). */
function readChatContent(content: unknown, path: string, role: Role, add: (path: string, role: Role, text: string | undefined) => void): void {
  if (typeof content === 'string') {
    add(path, role, content);
    return;
  }
  const parts = asArray(content);
  if (!parts) return;
  for (let j = 0; j < parts.length; j++) {
    const p = asObject(parts[j]);
    if (!p) continue;
    const at = `${path}[${j}]`;
    if (typeof p.text === 'string') add(`${at}.text`, role, p.text);
    else if (typeof p.refusal === 'string') add(`${at}.refusal`, role, p.refusal);
    // Inline images are base64 pixels, not text; a remote URL can still carry a secret in its query.
    // Chat nests the URL (`image_url.url`); the Responses API's input_image has it flat.
    const nested = asString(asObject(p.image_url)?.url);
    const url = nested ?? asString(p.image_url);
    if (url !== undefined && !isDataUri(url)) add(nested !== undefined ? `${at}.image_url.url` : `${at}.image_url`, role, url);
  }
}

// ---------------------------------------------------------------- chat

function chatRequest(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  out.setModel('request', b.model);
  if (b.stream === true) out.streamRequested = true;
  const add = out.addPrompt.bind(out);
  const messages = asArray(b.messages) ?? [];
  for (let i = 0; i < messages.length; i++) {
    const m = asObject(messages[i]);
    if (!m) continue;
    const at = `request.body.messages[${i}]`;
    const role = toRole(m.role);
    readChatContent(m.content, `${at}.content`, role, add);
    add(`${at}.refusal`, role, asString(m.refusal));
    const calls = asArray(m.tool_calls) ?? [];
    for (let j = 0; j < calls.length; j++) {
      const fn = asObject(asObject(calls[j])?.function);
      add(`${at}.tool_calls[${j}].function.arguments`, 'assistant', asString(fn?.arguments));
    }
    add(`${at}.function_call.arguments`, 'assistant', asString(asObject(m.function_call)?.arguments));
  }
}

function chatResponse(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  out.setModel('response', b.model);
  openaiUsage(out, b.usage);
  const choices = asArray(b.choices) ?? [];
  for (let i = 0; i < choices.length; i++) {
    const c = asObject(choices[i]);
    const m = asObject(c?.message);
    if (!m) {
      out.addCompletion(`response.body.choices[${i}].text`, asString(c?.text));
      continue;
    }
    const at = `response.body.choices[${i}].message`;
    readChatContent(m.content, `${at}.content`, 'assistant', (path, _role, text) => out.addCompletion(path, text));
    out.addCompletion(`${at}.refusal`, asString(m.refusal));
    out.addCompletion(`${at}.audio.transcript`, asString(asObject(m.audio)?.transcript));
    const calls = asArray(m.tool_calls) ?? [];
    for (let j = 0; j < calls.length; j++) {
      const call = asObject(calls[j]);
      const fn = asObject(call?.function);
      if (!fn) continue;
      out.addToolCall(`${at}.tool_calls[${j}].function.arguments`, asString(fn.name), asString(fn.arguments) ?? '', asString(call?.id));
    }
    const legacy = asObject(m.function_call);
    if (legacy) out.addToolCall(`${at}.function_call.arguments`, asString(legacy.name), asString(legacy.arguments) ?? '');
  }
}

interface ToolSlot {
  id?: string;
  name?: string;
  args: string;
}

interface ChoiceSlot {
  content: string;
  refusal: string;
  text: string;
  readonly tools: Map<number, ToolSlot>;
}

/** `chat.completion.chunk` and legacy `text_completion` streams: deltas per choice index. */
class ChoiceStreamReader implements StreamReader {
  private readonly choices = new Map<number, ChoiceSlot>();
  private model: string | undefined;
  private usage: unknown;

  event(e: StreamEvent): void {
    const d = asObject(e.data);
    if (!d) return;
    const model = asString(d.model);
    if (model) this.model ??= model;
    if (d.usage) this.usage = d.usage;
    const choices = asArray(d.choices) ?? [];
    for (let k = 0; k < choices.length; k++) {
      const c = asObject(choices[k]);
      if (!c) continue;
      const slot = this.slot(this.choices, asNumber(c.index) ?? k, () => ({ content: '', refusal: '', text: '', tools: new Map() }));
      if (!slot) continue;
      if (typeof c.text === 'string') slot.text += c.text;
      const delta = asObject(c.delta);
      if (!delta) continue;
      if (typeof delta.content === 'string') slot.content += delta.content;
      if (typeof delta.refusal === 'string') slot.refusal += delta.refusal;
      const calls = asArray(delta.tool_calls) ?? [];
      for (let j = 0; j < calls.length; j++) {
        const call = asObject(calls[j]);
        if (!call) continue;
        const tool = this.slot(slot.tools, asNumber(call.index) ?? j, () => ({ args: '' }));
        if (!tool) continue;
        const fn = asObject(call.function);
        tool.id ??= asString(call.id);
        tool.name ??= asString(fn?.name);
        if (typeof fn?.arguments === 'string') tool.args += fn.arguments;
      }
    }
  }

  private slot<T>(map: Map<number, T>, index: number, make: () => T): T | undefined {
    let s = map.get(index);
    if (s === undefined && map.size < MAX_SLOTS) map.set(index, (s = make()));
    return s;
  }

  finish(out: ViewBuilder): void {
    out.setModel('response', this.model);
    openaiUsage(out, this.usage);
    for (const [i, c] of [...this.choices].sort((a, b) => a[0] - b[0])) {
      const at = `response.stream.choices[${i}]`;
      out.addCompletion(`${at}.delta.content`, c.content);
      out.addCompletion(`${at}.delta.refusal`, c.refusal);
      out.addCompletion(`${at}.text`, c.text);
      for (const [j, t] of [...c.tools].sort((a, b) => a[0] - b[0])) {
        out.addToolCall(`${at}.delta.tool_calls[${j}].function.arguments`, t.name, t.args, t.id);
      }
    }
  }
}

export const chatFormat: BodyFormat = {
  request: chatRequest,
  response: chatResponse,
  stream: () => new ChoiceStreamReader(),
};

// ---------------------------------------------------------------- responses

function responsesContent(content: unknown, path: string, role: Role, out: ViewBuilder): void {
  readChatContent(content, path, role, out.addPrompt.bind(out));
}

function responsesRequest(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  out.setModel('request', b.model);
  if (b.stream === true) out.streamRequested = true;
  out.addPrompt('request.body.instructions', 'system', asString(b.instructions));
  if (typeof b.input === 'string') {
    out.addPrompt('request.body.input', 'user', b.input);
    return;
  }
  const items = asArray(b.input) ?? [];
  for (let i = 0; i < items.length; i++) {
    const item = asObject(items[i]);
    if (!item) continue;
    const at = `request.body.input[${i}]`;
    switch (item.type ?? 'message') {
      case 'message':
        responsesContent(item.content, `${at}.content`, toRole(item.role), out);
        break;
      case 'function_call':
        out.addPrompt(`${at}.arguments`, 'assistant', asString(item.arguments));
        break;
      case 'custom_tool_call':
        out.addPrompt(`${at}.input`, 'assistant', asString(item.input));
        break;
      case 'function_call_output':
      case 'custom_tool_call_output':
        out.addPrompt(`${at}.output`, 'tool', jsonText(item.output));
        break;
      case 'reasoning':
        readSummary(item.summary, at, (path, text) => out.addPrompt(path, 'assistant', text));
        break;
      default:
        break;
    }
  }
}

function readSummary(summary: unknown, at: string, add: (path: string, text: string | undefined) => void): void {
  const parts = asArray(summary) ?? [];
  for (let j = 0; j < parts.length; j++) add(`${at}.summary[${j}].text`, asString(asObject(parts[j])?.text));
}

function responsesOutput(response: unknown, base: string, out: ViewBuilder): void {
  const r = asObject(response);
  if (!r) return;
  out.setModel('response', r.model);
  openaiUsage(out, r.usage);
  const items = asArray(r.output) ?? [];
  for (let i = 0; i < items.length; i++) {
    const item = asObject(items[i]);
    if (!item) continue;
    const at = `${base}.output[${i}]`;
    switch (item.type) {
      case 'message':
        readChatContent(item.content, `${at}.content`, 'assistant', (path, _role, text) => out.addCompletion(path, text));
        break;
      case 'function_call':
        out.addToolCall(`${at}.arguments`, asString(item.name), asString(item.arguments) ?? '', asString(item.call_id));
        break;
      case 'custom_tool_call':
        out.addToolCall(`${at}.input`, asString(item.name), asString(item.input) ?? '', asString(item.call_id));
        break;
      case 'reasoning':
        readSummary(item.summary, at, (path, text) => out.addCompletion(path, text));
        break;
      default:
        break;
    }
  }
}

/** Responses API stream: typed events keyed by output_index (and content_index for text). */
class ResponsesStreamReader implements StreamReader {
  private readonly texts = new Map<string, { path: string; text: string }>();
  private readonly tools = new Map<number, ToolSlot>();
  private final: unknown;
  private model: string | undefined;

  event(e: StreamEvent): void {
    const d = asObject(e.data);
    if (!d) return;
    const type = asString(d.type) ?? e.name;
    const oi = asNumber(d.output_index) ?? 0;
    const delta = asString(d.delta);
    switch (type) {
      case 'response.output_text.delta':
      case 'response.refusal.delta': {
        const ci = asNumber(d.content_index) ?? 0;
        const field = type === 'response.refusal.delta' ? 'refusal' : 'text';
        this.appendText(`response.stream.output[${oi}].content[${ci}].${field}`, delta);
        break;
      }
      case 'response.reasoning_summary_text.delta':
        this.appendText(`response.stream.output[${oi}].summary[${asNumber(d.summary_index) ?? 0}].text`, delta);
        break;
      case 'response.output_item.added':
      case 'response.output_item.done': {
        const item = asObject(d.item);
        if (item?.type !== 'function_call' && item?.type !== 'custom_tool_call') break;
        const tool = this.tool(oi);
        if (!tool) break;
        tool.id ??= asString(item.call_id);
        tool.name ??= asString(item.name);
        const full = asString(item.arguments) ?? asString(item.input);
        if (type === 'response.output_item.done' && full !== undefined) tool.args = full;
        break;
      }
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta': {
        const tool = this.tool(oi);
        if (tool && delta !== undefined) tool.args += delta;
        break;
      }
      case 'response.function_call_arguments.done': {
        const tool = this.tool(oi);
        const args = asString(d.arguments);
        if (tool && args !== undefined) tool.args = args;
        break;
      }
      case 'response.created':
      case 'response.in_progress':
        this.model ??= asString(asObject(d.response)?.model);
        break;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        this.final = d.response;
        break;
      default:
        break;
    }
  }

  private appendText(path: string, delta: string | undefined): void {
    if (delta === undefined) return;
    const slot = this.texts.get(path);
    if (slot) slot.text += delta;
    else if (this.texts.size < MAX_SLOTS) this.texts.set(path, { path, text: delta });
  }

  private tool(index: number): ToolSlot | undefined {
    let t = this.tools.get(index);
    if (t === undefined && this.tools.size < MAX_SLOTS) this.tools.set(index, (t = { args: '' }));
    return t;
  }

  finish(out: ViewBuilder): void {
    const final = asObject(this.final);
    out.setModel('response', final?.model ?? this.model);
    openaiUsage(out, final?.usage);
    for (const { path, text } of this.texts.values()) out.addCompletion(path, text);
    for (const [i, t] of [...this.tools].sort((a, b) => a[0] - b[0])) {
      out.addToolCall(`response.stream.output[${i}].arguments`, t.name, t.args, t.id);
    }
  }
}

export const responsesFormat: BodyFormat = {
  request: responsesRequest,
  response: (body, out) => responsesOutput(body, 'response.body', out),
  stream: () => new ResponsesStreamReader(),
};

// ---------------------------------------------------------------- completions & embeddings

/** `prompt` / `input`: a string, an array of strings, or token ids (nothing to read). */
function readStrings(value: unknown, path: string, out: ViewBuilder): void {
  if (typeof value === 'string') {
    out.addPrompt(path, 'user', value);
    return;
  }
  const items = asArray(value) ?? [];
  for (let i = 0; i < items.length; i++) out.addPrompt(`${path}[${i}]`, 'user', asString(items[i]));
}

export const completionsFormat: BodyFormat = {
  request(body, out) {
    const b = asObject(body);
    if (!b) return;
    out.setModel('request', b.model);
    if (b.stream === true) out.streamRequested = true;
    readStrings(b.prompt, 'request.body.prompt', out);
    out.addPrompt('request.body.suffix', 'user', asString(b.suffix));
  },
  response(body, out) {
    const b = asObject(body);
    if (!b) return;
    out.setModel('response', b.model);
    openaiUsage(out, b.usage);
    const choices = asArray(b.choices) ?? [];
    for (let i = 0; i < choices.length; i++) out.addCompletion(`response.body.choices[${i}].text`, asString(asObject(choices[i])?.text));
  },
  stream: () => new ChoiceStreamReader(),
};

export const embeddingsFormat: BodyFormat = {
  request(body, out) {
    const b = asObject(body);
    if (!b) return;
    out.setModel('request', b.model);
    readStrings(b.input, 'request.body.input', out);
  },
  response(body, out) {
    // The vectors are not text; only the model and the usage matter.
    const b = asObject(body);
    out.setModel('response', b?.model);
    openaiUsage(out, b?.usage);
  },
  stream: () => new ChoiceStreamReader(),
};

/** POST /v1/realtime/sessions and /client_secrets: the session's instructions are a system prompt. */
export const realtimeSessionFormat: BodyFormat = {
  request(body, out) {
    const b = asObject(body);
    const session = asObject(b?.session);
    out.setModel('request', b?.model ?? session?.model);
    out.addPrompt('request.body.instructions', 'system', asString(b?.instructions));
    out.addPrompt('request.body.session.instructions', 'system', asString(session?.instructions));
  },
  response(body, out) {
    const b = asObject(body);
    out.setModel('response', b?.model ?? asObject(b?.session)?.model);
  },
  stream: genericFormat.stream,
};

// ---------------------------------------------------------------- routes

/**
 * Routes by path suffix, so the same table serves `/v1/chat/completions`,
 * LiteLLM's `/chat/completions` and egress prefixes like `/openai/v1/...`.
 */
export function openaiRoute(path: string): Route | undefined {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  if (p.endsWith('/chat/completions')) return { operation: 'chat', format: chatFormat };
  if (/\/responses(?:\/[^/]+)?$/.test(p) && !p.endsWith('/input_items')) return { operation: 'responses', format: responsesFormat };
  if (p.endsWith('/completions')) return { operation: 'completions', format: completionsFormat };
  if (p.endsWith('/embeddings')) return { operation: 'embeddings', format: embeddingsFormat };
  if (/\/realtime\/(?:sessions|client_secrets|transcription_sessions)$/.test(p)) return { operation: 'realtime', format: realtimeSessionFormat };
  if (p.endsWith('/realtime')) return { operation: 'realtime', format: genericFormat };
  if (/\/models(?:\/[^/]+)?$/.test(p)) return { operation: 'models', format: genericFormat };
  return undefined;
}

export const openaiAdapter: Adapter = {
  provider: 'openai',
  route: (path) => openaiRoute(path),
};
