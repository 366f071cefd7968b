import type { Operation, Provider } from '../types.js';
import type { ViewBuilder } from './builder.js';

// The two halves of a provider adapter. A `BodyFormat` knows one API's JSON
// (OpenAI chat, Anthropic messages, …) and can be shared: LiteLLM and Azure
// speak OpenAI's formats on their own paths. An `Adapter` maps a provider's
// paths onto an operation and the format its bodies use.

/** One decoded streaming event: SSE `event:` name (or Bedrock `:event-type`) and its JSON data. */
export interface StreamEvent {
  readonly name: string;
  readonly data: unknown;
}

/** Accumulates a streamed response (deltas per choice/block) and writes it out at the end. */
export interface StreamReader {
  event(e: StreamEvent): void;
  finish(out: ViewBuilder): void;
}

export interface BodyFormat {
  /** Reads a parsed JSON request body. */
  request(body: unknown, out: ViewBuilder): void;
  /** Reads a parsed JSON (non-streamed) response body. */
  response(body: unknown, out: ViewBuilder): void;
  /** A fresh reader for one streamed response. */
  stream(): StreamReader;
}

export interface Route {
  readonly operation: Operation;
  readonly format: BodyFormat;
  /** Model named by the path (Gemini `models/{m}:…`, Bedrock `model/{id}/…`, Azure deployment). */
  readonly pathModel?: string;
  /** The path asks for a stream (`:streamGenerateContent`, `/converse-stream`). */
  readonly stream?: boolean;
  /** The path's model is only a name for it (Azure deployment): the response's model wins. */
  readonly pathModelIsAlias?: boolean;
}

export interface Adapter {
  readonly provider: Provider;
  /** The route for a path (without query), or undefined when this adapter does not know it. */
  route(path: string, query: string): Route | undefined;
}
