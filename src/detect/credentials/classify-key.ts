// Classifies the credential a request presents by its public prefix. The
// proxy calls this for every request, so it is a short prefix table tried
// longest-first, plus shape checks for the three `sk-` formats that share a
// prefix; never the rule pack's regexes.

export interface KeyClass {
  /** e.g. `openai`, `anthropic`, `google`, `aws`, `litellm`, `unknown`. */
  readonly keyType: string;
  /** The public type prefix, never more of the key. '' when unknown. */
  readonly prefix: string;
}

const PREFIXES: readonly (readonly [prefix: string, keyType: string])[] = (
  [
    ['sk-ant-', 'anthropic'],
    ['sk-proj-', 'openai'],
    ['sk-svcacct-', 'openai'],
    ['sk-admin-', 'openai'],
    ['sk-None-', 'openai'],
    ['sk-or-v1-', 'openrouter'],
    ['sk-lf-', 'langfuse'],
    ['sk-helicone-', 'helicone'],
    ['AIza', 'google'],
    ['ya29.', 'google'],
    ['AKIA', 'aws'],
    ['ASIA', 'aws'],
    ['ABSK', 'aws'],
    ['bedrock-api-key-', 'aws'],
    ['gsk_', 'groq'],
    ['xai-', 'xai'],
    ['pplx-', 'perplexity'],
    ['hf_', 'huggingface'],
    ['r8_', 'replicate'],
    ['nvapi-', 'nvidia'],
    ['fw_', 'fireworks'],
    ['tgp_v1_', 'together'],
    ['pcsk_', 'pinecone'],
    ['csk-', 'cerebras'],
    ['lsv2_', 'langsmith'],
    ['pa-', 'voyage'],
    ['dapi', 'databricks'],
    ['eyJ', 'jwt'],
  ] as const
)
  .slice()
  .sort((a, b) => b[0].length - a[0].length);

const UNKNOWN: KeyClass = Object.freeze({ keyType: 'unknown', prefix: '' });
const SK_OPENAI_MARKER = 'T3BlbkFJ';

function isHex(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

export function classifyKey(key: string): KeyClass {
  for (const [prefix, keyType] of PREFIXES) {
    if (key.startsWith(prefix)) return { keyType, prefix };
  }
  if (key.startsWith('sk-')) {
    // Legacy OpenAI user keys carry base64("OpenAI"); DeepSeek keys are 32
    // hex; every other `sk-` key at a gateway is a LiteLLM master or virtual key.
    if (key.includes(SK_OPENAI_MARKER) || (key.length === 51 && /^sk-[A-Za-z0-9]{48}$/.test(key))) return { keyType: 'openai', prefix: 'sk-' };
    if (key.length === 35 && isHex(key, 3)) return { keyType: 'deepseek', prefix: 'sk-' };
    return { keyType: 'litellm', prefix: 'sk-' };
  }
  if (key.startsWith('sk_') && key.length === 51 && isHex(key, 3)) return { keyType: 'elevenlabs', prefix: 'sk_' };
  return UNKNOWN;
}
