import type { Adapter, Route } from './adapter.js';
import { anthropicRoute } from './anthropic.js';
import { azureRoute } from './azure.js';
import { bedrockRoute } from './bedrock.js';
import { geminiRoute, isGeminiModelPath } from './gemini.js';
import { genericFormat } from './generic.js';
import { safeDecode } from './json.js';
import { openaiRoute } from './openai.js';

// LiteLLM proxy routes. Its own API is OpenAI's, with or without `/v1`
// (`/chat/completions`, `/v1/chat/completions`, `/engines/{model}/…`), plus
// Anthropic's `/v1/messages`, provider pass-through prefixes (`/anthropic/…`,
// `/gemini/…`, `/vertex_ai/…`, `/bedrock/…`, `/azure/…`), Azure-style
// deployment routes, and its management API (`/key/generate`, `/model/info`…).
// Bodies are read by the matching provider's format; the provider stays `litellm`.

const MANAGEMENT = /^(?:\/v1)?\/(?:key|user|team|organization|customer|end_user|spend|global|budget|credentials|guardrails|sso|config|health|cache|settings)(?:\/|$)/;
const MODEL_INFO = /^(?:\/v1)?\/(?:model|model_group)\/(?:info|new|update|delete)$/;
const ENGINE = /^\/engines\/([^/]+)\//;
/** OpenAI's own API always has `/v1`; these bare routes are LiteLLM's. */
const BARE_OPENAI = /^\/(?:chat\/completions|completions|embeddings|responses|engines\/)/;

/** Paths only LiteLLM serves: its management API and OpenAI routes without `/v1`. */
export function isLitellmPath(path: string): boolean {
  return MODEL_INFO.test(path) || MANAGEMENT.test(path) || BARE_OPENAI.test(path);
}

export function litellmRoute(path: string, query: string): Route | undefined {
  if (MODEL_INFO.test(path)) return { operation: 'models', format: genericFormat };
  if (MANAGEMENT.test(path)) return { operation: 'other', format: genericFormat };
  const bedrock = bedrockRoute(path);
  if (bedrock) return bedrock;
  if (isGeminiModelPath(path) || /^\/(?:gemini|vertex[-_]ai)\//.test(path)) return geminiRoute(path);
  if (path.startsWith('/anthropic/')) return anthropicRoute(path);
  if (/\/openai\/deployments\//.test(path) || path.startsWith('/azure/')) return azureRoute(path, query);
  const messages = anthropicRoute(path);
  if (messages && messages.operation === 'messages') return messages;
  const route = openaiRoute(path);
  const engine = ENGINE.exec(path);
  return route && engine ? { ...route, pathModel: safeDecode(engine[1] ?? '') } : route;
}

export const litellmAdapter: Adapter = {
  provider: 'litellm',
  route: litellmRoute,
};
