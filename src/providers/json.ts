import type { Role } from '../types.js';

// Narrowing helpers for parsed JSON of unknown shape: adapters read provider
// bodies through these so that any unexpected type just yields `undefined`.

export type JsonObject = Readonly<Record<string, unknown>>;

export function asObject(v: unknown): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

export function asArray(v: unknown): readonly unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function asNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Parses JSON text; `undefined` when it is not JSON (truncated, binary, form data…). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JSON text of a structured value (tool inputs/args), '' when it cannot be serialized. */
export function jsonText(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `base.key`, or `base["key"]` when the key is not a plain identifier. */
export function pathKey(base: string, key: string): string {
  return IDENTIFIER.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

const ROLES: Readonly<Record<string, Role>> = {
  system: 'system',
  developer: 'developer',
  user: 'user',
  assistant: 'assistant',
  model: 'assistant',
  tool: 'tool',
  function: 'tool',
  ipython: 'tool',
};

/** Maps a provider's role name (OpenAI, Anthropic, Gemini `model`, Bedrock) onto ours. */
export function toRole(v: unknown): Role {
  return (typeof v === 'string' && Object.hasOwn(ROLES, v) ? ROLES[v] : undefined) ?? 'unknown';
}

/** True for `data:` URIs (inline images, audio, files): their base64 bodies are not text to inspect. */
export function isDataUri(s: string): boolean {
  return s.length > 5 && s.slice(0, 5).toLowerCase() === 'data:';
}

/** decodeURIComponent that returns its input for malformed escapes. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
