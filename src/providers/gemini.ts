import type { Role } from '../types.js';
import type { Adapter, BodyFormat, Route, StreamEvent, StreamReader } from './adapter.js';
import type { ViewBuilder } from './builder.js';
import { genericFormat } from './generic.js';
import { asArray, asNumber, asObject, asString, isDataUri, jsonText, safeDecode, toRole } from './json.js';

// Google Gemini (AI Studio `/v1beta/models/{m}:generateContent` and Vertex AI
// `/v1/projects/…/publishers/google/models/{m}:…`). The model is in the path.
// `:streamGenerateContent` streams SSE with `?alt=sse`, else one JSON array.

const MAX_CANDIDATES = 10_000;

function geminiUsage(out: ViewBuilder, usage: unknown): void {
  const u = asObject(usage);
  if (!u) return;
  const candidates = asNumber(u.candidatesTokenCount);
  const thoughts = asNumber(u.thoughtsTokenCount);
  out.setUsage({
    promptTokens: u.promptTokenCount,
    completionTokens: candidates === undefined && thoughts === undefined ? undefined : (candidates ?? 0) + (thoughts ?? 0),
    totalTokens: u.totalTokenCount,
  });
}

/** A `Content`'s parts: text, function calls and responses, code; inline (base64) data is skipped. */
function readParts(content: unknown, path: string, role: Role, out: ViewBuilder): void {
  const parts = asArray(asObject(content)?.parts) ?? [];
  for (let j = 0; j < parts.length; j++) {
    const p = asObject(parts[j]);
    if (!p) continue;
    const at = `${path}.parts[${j}]`;
    if (typeof p.text === 'string') out.addPrompt(`${at}.text`, role, p.text);
    const call = asObject(p.functionCall);
    if (call) out.addPrompt(`${at}.functionCall.args`, 'assistant', jsonText(call.args));
    const result = asObject(p.functionResponse);
    if (result) out.addPrompt(`${at}.functionResponse.response`, 'tool', jsonText(result.response));
    out.addPrompt(`${at}.executableCode.code`, 'assistant', asString(asObject(p.executableCode)?.code));
    out.addPrompt(`${at}.codeExecutionResult.output`, 'tool', asString(asObject(p.codeExecutionResult)?.output));
    const uri = asString(asObject(p.fileData)?.fileUri);
    if (uri !== undefined && !isDataUri(uri)) out.addPrompt(`${at}.fileData.fileUri`, role, uri);
  }
}

function generateRequest(body: unknown, out: ViewBuilder): void {
  const b = asObject(body);
  if (!b) return;
  out.setModel('request', b.model);
  const systemKey = b.systemInstruction !== undefined ? 'systemInstruction' : 'system_instruction';
  const system = b[systemKey];
  if (typeof system === 'string') out.addPrompt(`request.body.${systemKey}`, 'system', system);
  else readParts(system, `request.body.${systemKey}`, 'system', out);
  const contents = asArray(b.contents) ?? [];
  for (let i = 0; i < contents.length; i++) {
    const c = asObject(contents[i]);
    // Gemini omits the role on single-turn requests: that content is the user's.
    const role = c?.role === undefined ? 'user' : toRole(c.role);
    readParts(c, `request.body.contents[${i}]`, role, out);
  }
  // embedContent and batchEmbedContents
  readParts(b.content, 'request.body.content', 'user', out);
  const requests = asArray(b.requests) ?? [];
  for (let i = 0; i < requests.length; i++) readParts(asObject(requests[i])?.content, `request.body.requests[${i}].content`, 'user', out);
}

interface CandidateSlot {
  text: string;
  readonly calls: { name?: string; args: string; id?: string }[];
}

/** Chunks of `GenerateContentResponse`: text per candidate concatenated, function calls collected. */
class GeminiStreamReader implements StreamReader {
  private readonly candidates = new Map<number, CandidateSlot>();
  private usage: unknown;
  private model: string | undefined;

  event(e: StreamEvent): void {
    const d = asObject(e.data);
    if (!d) return;
    this.model ??= asString(d.modelVersion);
    if (d.usageMetadata) this.usage = d.usageMetadata;
    const candidates = asArray(d.candidates) ?? [];
    for (let k = 0; k < candidates.length; k++) {
      const c = asObject(candidates[k]);
      const index = asNumber(c?.index) ?? k;
      let slot = this.candidates.get(index);
      if (slot === undefined) {
        if (this.candidates.size >= MAX_CANDIDATES) continue;
        this.candidates.set(index, (slot = { text: '', calls: [] }));
      }
      for (const p of asArray(asObject(c?.content)?.parts) ?? []) {
        const part = asObject(p);
        if (typeof part?.text === 'string') slot.text += part.text;
        const call = asObject(part?.functionCall);
        if (call && slot.calls.length < MAX_CANDIDATES) {
          slot.calls.push({ name: asString(call.name), args: jsonText(call.args ?? {}), id: asString(call.id) });
        }
      }
    }
  }

  finish(out: ViewBuilder): void {
    out.setModel('response', this.model);
    geminiUsage(out, this.usage);
    for (const [i, c] of [...this.candidates].sort((a, b) => a[0] - b[0])) {
      out.addCompletion(`response.stream.candidates[${i}].content.parts[0].text`, c.text);
      c.calls.forEach((call, k) => out.addToolCall(`response.stream.candidates[${i}].functionCalls[${k}].args`, call.name, call.args, call.id));
    }
  }
}

function generateResponse(body: unknown, out: ViewBuilder): void {
  if (Array.isArray(body)) {
    // streamGenerateContent without alt=sse answers with a JSON array of chunks.
    const reader = new GeminiStreamReader();
    for (const chunk of body) reader.event({ name: 'message', data: chunk });
    reader.finish(out);
    return;
  }
  const b = asObject(body);
  if (!b) return;
  out.setModel('response', b.modelVersion);
  geminiUsage(out, b.usageMetadata);
  const candidates = asArray(b.candidates) ?? [];
  for (let i = 0; i < candidates.length; i++) {
    const parts = asArray(asObject(asObject(candidates[i])?.content)?.parts) ?? [];
    for (let j = 0; j < parts.length; j++) {
      const p = asObject(parts[j]);
      const at = `response.body.candidates[${i}].content.parts[${j}]`;
      out.addCompletion(`${at}.text`, asString(p?.text));
      const call = asObject(p?.functionCall);
      if (call) out.addToolCall(`${at}.functionCall.args`, asString(call.name), jsonText(call.args ?? {}), asString(call.id));
    }
  }
  // embedContent responses carry vectors only.
}

export const generateFormat: BodyFormat = {
  request: generateRequest,
  response: generateResponse,
  stream: () => new GeminiStreamReader(),
};

const MODEL_METHOD = /\/models\/([^/:]+):([A-Za-z]+)$/;

/** `…/models/{model}:{method}`: a Gemini (AI Studio or Vertex) model call. */
export function isGeminiModelPath(path: string): boolean {
  return MODEL_METHOD.test(path);
}

export function geminiRoute(path: string): Route | undefined {
  const m = MODEL_METHOD.exec(path);
  if (!m) return /\/models(?:\/[^/:]+)?\/?$/.test(path) ? { operation: 'models', format: genericFormat } : undefined;
  const model = safeDecode(m[1] ?? '');
  switch (m[2]) {
    case 'generateContent':
    case 'countTokens':
      return { operation: 'generate', format: generateFormat, pathModel: model };
    case 'streamGenerateContent':
      return { operation: 'generate', format: generateFormat, pathModel: model, stream: true };
    case 'embedContent':
    case 'batchEmbedContents':
      return { operation: 'embeddings', format: generateFormat, pathModel: model };
    default:
      return { operation: 'other', format: genericFormat, pathModel: model };
  }
}

export const geminiAdapter: Adapter = {
  provider: 'gemini',
  route: (path) => geminiRoute(path),
};
