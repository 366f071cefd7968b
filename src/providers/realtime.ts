import type { Role, TextPart, ToolCall } from '../types.js';
import { walkStrings } from './generic.js';
import { asArray, asObject, asString, jsonText, parseJson, toRole } from './json.js';

// One WebSocket message of OpenAI's Realtime API (beta and GA event names),
// or of an unknown protocol. Each message is viewed on its own: the proxy
// calls this per message, so no state is kept between them. Paths are
// `ws.{direction}[{index}].…`.

export interface WsMessageView {
  prompt: TextPart[];
  completion: TextPart[];
  toolCalls: ToolCall[];
}

/** Events that carry only audio or bookkeeping: nothing to inspect. */
const SKIP = new Set([
  'input_audio_buffer.append',
  'response.audio.delta',
  'response.output_audio.delta',
  'response.function_call_arguments.delta',
  // The server echoes the session and the full response; their text already came in other events.
  'session.created',
  'session.updated',
  'response.created',
  'response.done',
  'conversation.item.created',
  'conversation.item.added',
  'conversation.item.done',
  'response.output_item.added',
  'response.output_item.done',
  'response.content_part.added',
  'response.content_part.done',
]);

const COMPLETION_DELTAS = new Set([
  'response.text.delta',
  'response.output_text.delta',
  'response.audio_transcript.delta',
  'response.output_audio_transcript.delta',
]);

function readItem(item: unknown, at: string, view: WsMessageView): void {
  const i = asObject(item);
  if (!i) return;
  const add = (path: string, role: Role, text: string | undefined): void => {
    if (text) view.prompt.push({ path, role, text });
  };
  switch (i.type) {
    case 'function_call_output':
      add(`${at}.output`, 'tool', jsonText(i.output));
      return;
    case 'function_call':
      add(`${at}.arguments`, 'assistant', asString(i.arguments));
      return;
    default: {
      const role = toRole(i.role);
      const content = asArray(i.content) ?? [];
      for (let j = 0; j < content.length; j++) {
        const c = asObject(content[j]);
        add(`${at}.content[${j}].text`, role, asString(c?.text));
        add(`${at}.content[${j}].transcript`, role, asString(c?.transcript));
      }
    }
  }
}

export function viewRealtimeMessage(direction: 'client' | 'upstream', text: string, index: number): WsMessageView {
  const view: WsMessageView = { prompt: [], completion: [], toolCalls: [] };
  const base = `ws.${direction}[${index}]`;
  const parsed = parseJson(text);
  const msg = asObject(parsed);
  const type = asString(msg?.type);
  if (!msg || type === undefined) {
    // Not a Realtime event: the whole message is text to inspect.
    const part: TextPart = { path: base, role: 'unknown', text };
    if (text) (direction === 'client' ? view.prompt : view.completion).push(part);
    return view;
  }
  if (SKIP.has(type)) return view;
  const system = (path: string, value: unknown): void => {
    const s = asString(value);
    if (s) view.prompt.push({ path, role: 'system', text: s });
  };
  const completion = (path: string, value: unknown): void => {
    const s = asString(value);
    if (s) view.completion.push({ path, role: 'assistant', text: s });
  };
  switch (type) {
    case 'session.update':
    case 'transcription_session.update':
      system(`${base}.session.instructions`, asObject(msg.session)?.instructions);
      return view;
    case 'conversation.item.create':
      readItem(msg.item, `${base}.item`, view);
      return view;
    case 'response.create': {
      const response = asObject(msg.response);
      system(`${base}.response.instructions`, response?.instructions);
      const input = asArray(response?.input) ?? [];
      for (let i = 0; i < input.length; i++) readItem(input[i], `${base}.response.input[${i}]`, view);
      return view;
    }
    case 'conversation.item.input_audio_transcription.completed': {
      const transcript = asString(msg.transcript);
      if (transcript) view.prompt.push({ path: `${base}.transcript`, role: 'user', text: transcript });
      return view;
    }
    case 'response.text.done':
    case 'response.output_text.done':
      completion(`${base}.text`, msg.text);
      return view;
    case 'response.audio_transcript.done':
    case 'response.output_audio_transcript.done':
      completion(`${base}.transcript`, msg.transcript);
      return view;
    case 'response.function_call_arguments.done':
      view.toolCalls.push({
        path: `${base}.arguments`,
        name: asString(msg.name) ?? '',
        arguments: asString(msg.arguments) ?? '',
        ...(asString(msg.call_id) ? { id: asString(msg.call_id) } : {}),
      });
      return view;
    default:
      break;
  }
  if (COMPLETION_DELTAS.has(type)) {
    completion(`${base}.delta`, msg.delta);
    return view;
  }
  // Unknown event types (errors, future events): every string in them.
  const target = direction === 'client' ? view.prompt : view.completion;
  walkStrings(msg, base, (path, s) => target.push({ path, role: 'unknown', text: s }));
  return view;
}
