// The shapes every part of gatewatch shares: the normalized exchange that
// detectors read, the findings they return, and the alert that sinks send.

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export type Category = 'credential' | 'anomaly' | 'exfiltration';

export type Provider =
  | 'openai'
  | 'anthropic'
  | 'gemini'
  | 'azure-openai'
  | 'bedrock'
  | 'litellm'
  | 'unknown';

export type Operation =
  | 'chat'
  | 'responses'
  | 'completions'
  | 'embeddings'
  | 'realtime'
  | 'messages'
  | 'generate'
  | 'invoke'
  | 'converse'
  | 'models'
  | 'other';

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'unknown';

/** A piece of text from the request (prompt) or the response (completion), with where it was. */
export interface TextPart {
  /** JSON path of the text in its body, e.g. `request.body.messages[3].content`. */
  readonly path: string;
  readonly role: Role;
  readonly text: string;
}

export interface ToolCall {
  /** JSON path of the arguments, e.g. `response.body.choices[0].message.tool_calls[0].function.arguments`. */
  readonly path: string;
  readonly id?: string;
  readonly name: string;
  /** Raw arguments text (usually JSON). */
  readonly arguments: string;
}

export type KeySource = 'authorization' | 'x-api-key' | 'api-key' | 'x-goog-api-key' | 'query';

/** Who sent the request. Never holds a secret: the key is only its type and fingerprint. */
export interface Identity {
  readonly keyFingerprint?: string;
  /** Key type from its prefix, e.g. `openai`, `anthropic`, `litellm-virtual`, `unknown`. */
  readonly keyType?: string;
  /** Public prefix of the key (e.g. `sk-ant-`), never more. */
  readonly keyPrefix?: string;
  readonly keySource?: KeySource;
  readonly keyLength?: number;
  readonly clientIp: string;
  readonly user?: string;
  readonly team?: string;
  readonly userAgent?: string;
}

export interface Usage {
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  readonly totalTokens?: number;
}

export interface WsMessage {
  readonly direction: 'client' | 'upstream';
  readonly path: string;
  readonly binary: boolean;
  readonly text: string;
}

export interface Exchange {
  readonly id: string;
  readonly traceId?: string;
  readonly direction: 'ingress' | 'egress';
  readonly route: { readonly name: string; readonly upstream: string };
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Raw query string without the `?`, '' when none. */
  readonly query: string;
  /** Request headers as received (lower-case names). In memory only. */
  readonly requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly responseHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly identity: Identity;
  readonly provider: Provider;
  readonly operation: Operation;
  readonly model?: string;
  readonly stream: boolean;
  readonly prompt: readonly TextPart[];
  readonly completion: readonly TextPart[];
  readonly toolCalls: readonly ToolCall[];
  readonly wsMessages: readonly WsMessage[];
  readonly usage: Usage;
  /** Upstream status; 0 when the upstream never answered. */
  readonly status: number;
  readonly timings: {
    readonly start: number;
    readonly firstByte?: number;
    readonly end: number;
  };
  /** True when a capture cap or decode limit cut the body: inspection was partial. */
  readonly truncated: { readonly request: boolean; readonly response: boolean };
}

export interface Location {
  /** e.g. `request.body.messages[3].content`, `request.headers.authorization`, `request.query.key`. */
  readonly path: string;
  readonly start?: number;
  readonly end?: number;
}

export interface Finding {
  /** Rule or detector id, e.g. `credential.openai-project-key`. */
  readonly detector: string;
  readonly category: Category;
  readonly severity: Severity;
  readonly title: string;
  readonly summary?: string;
  readonly location?: Location;
  /** Evidence kind, e.g. `secret`, `phrase`, `url`, `rate`. */
  readonly kind?: string;
  /** HMAC fingerprint of the secret (fp:…), when the finding is about one. */
  readonly fingerprint?: string;
  readonly keyType?: string;
  /** Public type prefix only (`sk-ant-`, `AKIA`). */
  readonly prefix?: string;
  readonly length?: number;
  /** A short excerpt that holds no secret and no PII, or nothing. */
  readonly preview?: string;
  readonly runbook?: string;
}

export interface DetectContext {
  /** Milliseconds since epoch; injected so tests and replay control the clock. */
  readonly now: number;
}

/** A detector is a function over a normalized exchange. It must not keep the exchange. */
export interface Detector {
  readonly id: string;
  readonly category: Category;
  detect(exchange: Exchange, ctx: DetectContext): Finding[] | Promise<Finding[]>;
}

export interface AlertEvidence {
  readonly location: string;
  readonly kind: string;
  readonly fingerprint?: string;
  readonly preview?: string;
}

/** The alert shape of the design; its JSON Schema is `src/alerts/alert.schema.json`. */
export interface Alert {
  readonly id: string;
  readonly time: string;
  readonly detector: string;
  readonly category: Category;
  readonly severity: Severity;
  readonly title: string;
  readonly summary: string;
  readonly identity: {
    readonly key_fingerprint?: string;
    readonly key_type?: string;
    readonly client_ip?: string;
    readonly user?: string;
    readonly team?: string;
  };
  readonly request: {
    readonly method?: string;
    readonly path?: string;
    readonly provider?: string;
    readonly model?: string;
    readonly trace_id?: string;
    readonly direction?: 'ingress' | 'egress';
  };
  readonly evidence: readonly AlertEvidence[];
  readonly count: number;
  readonly first_seen: string;
  readonly last_seen: string;
  readonly runbook?: string;
}
