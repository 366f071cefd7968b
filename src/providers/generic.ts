import type { BodyFormat, StreamEvent, StreamReader } from './adapter.js';
import type { ViewBuilder } from './builder.js';
import { isDataUri, pathKey } from './json.js';

// For routes no adapter knows (gateway admin APIs, unknown providers): every
// string leaf of the JSON becomes a part with its own path, so secrets in any
// body are still inspected. Depth is capped; the part cap bounds the rest.

const MAX_DEPTH = 32;

export function walkStrings(value: unknown, path: string, visit: (path: string, text: string) => void, depth = 0): void {
  if (typeof value === 'string') {
    if (!isDataUri(value)) visit(path, value);
    return;
  }
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walkStrings(value[i], `${path}[${i}]`, visit, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    walkStrings((value as Record<string, unknown>)[key], pathKey(path, key), visit, depth + 1);
  }
}

class GenericStreamReader implements StreamReader {
  private readonly events: StreamEvent[] = [];
  event(e: StreamEvent): void {
    this.events.push(e);
  }
  finish(out: ViewBuilder): void {
    this.events.forEach((e, i) =>
      walkStrings(e.data, `response.stream[${i}]`, (path, text) => out.addCompletion(path, text, 'unknown')),
    );
  }
}

export const genericFormat: BodyFormat = {
  request(body, out) {
    walkStrings(body, 'request.body', (path, text) => out.addPrompt(path, 'unknown', text));
    const model = (body as { model?: unknown } | null)?.model;
    out.setModel('request', model);
  },
  response(body, out) {
    walkStrings(body, 'response.body', (path, text) => out.addCompletion(path, text, 'unknown'));
  },
  stream: () => new GenericStreamReader(),
};
