import type { Role, TextPart, ToolCall, Usage } from '../types.js';
import { asNumber } from './json.js';

// Collects what an adapter finds in an exchange. Part counts are capped so a
// body made of millions of tiny messages cannot make the view unbounded.

export const MAX_PARTS = 10_000;

export interface UsageUpdate {
  readonly promptTokens?: unknown;
  readonly completionTokens?: unknown;
  readonly totalTokens?: unknown;
}

export class ViewBuilder {
  readonly prompt: TextPart[] = [];
  readonly completion: TextPart[] = [];
  readonly toolCalls: ToolCall[] = [];
  requestModel: string | undefined;
  responseModel: string | undefined;
  /** The request asked for a stream (`"stream": true`) or the route implies one. */
  streamRequested = false;
  private promptTokens: number | undefined;
  private completionTokens: number | undefined;
  private totalTokens: number | undefined;

  /** Adds a prompt part; empty text is skipped (nothing to inspect). */
  addPrompt(path: string, role: Role, text: string | undefined): void {
    if (text && this.prompt.length < MAX_PARTS) this.prompt.push({ path, role, text });
  }

  addCompletion(path: string, text: string | undefined, role: Role = 'assistant'): void {
    if (text && this.completion.length < MAX_PARTS) this.completion.push({ path, role, text });
  }

  addToolCall(path: string, name: string | undefined, args: string, id?: string): void {
    if (this.toolCalls.length >= MAX_PARTS) return;
    this.toolCalls.push({ path, name: name ?? '', arguments: args, ...(id ? { id } : {}) });
  }

  setModel(side: 'request' | 'response', model: unknown): void {
    if (typeof model !== 'string' || model === '') return;
    if (side === 'request') this.requestModel ??= model;
    else this.responseModel ??= model;
  }

  /** Later reports win (a stream's final usage replaces an early one); non-numbers are ignored. */
  setUsage(u: UsageUpdate): void {
    this.promptTokens = asNumber(u.promptTokens) ?? this.promptTokens;
    this.completionTokens = asNumber(u.completionTokens) ?? this.completionTokens;
    this.totalTokens = asNumber(u.totalTokens) ?? this.totalTokens;
  }

  usage(): Usage {
    const { promptTokens, completionTokens } = this;
    const total =
      this.totalTokens ??
      (promptTokens !== undefined && completionTokens !== undefined ? promptTokens + completionTokens : undefined);
    // Assigned, not spread in: a literal that starts with a spread costs V8 (Node 20) a runtime call per key.
    const usage: { -readonly [K in keyof Usage]: Usage[K] } = {};
    if (promptTokens !== undefined) usage.promptTokens = promptTokens;
    if (completionTokens !== undefined) usage.completionTokens = completionTokens;
    if (total !== undefined) usage.totalTokens = total;
    return usage;
  }
}
