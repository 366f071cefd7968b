import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';
import { encodeEventStreamMessage } from '../../src/providers/event-stream.js';
import type { RawExchange } from '../../src/providers/view.js';
import type { Provider, TextPart } from '../../src/types.js';

// Loads a recorded-shape exchange from test/fixtures/providers/<name>/:
// exchange.json (method, path, query, headers, status), request.json, and
// one of response.json | response.sse | response.events.json (AWS
// event-stream frames written as JSON and encoded here).

export const FIXTURES_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'providers');

interface Meta {
  method: string;
  path: string;
  query: string;
  status: number;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  providerHint?: Provider;
}

export function responseBytes(dir: string): Buffer {
  for (const file of ['response.json', 'response.sse']) {
    const p = join(dir, file);
    if (existsSync(p)) return readFileSync(p);
  }
  const frames = join(dir, 'response.events.json');
  if (!existsSync(frames)) return Buffer.alloc(0);
  const events = JSON.parse(readFileSync(frames, 'utf8')) as { headers: Record<string, string>; payload: unknown }[];
  return Buffer.concat(events.map((e) => encodeEventStreamMessage(e.headers, JSON.stringify(e.payload))));
}

export function loadFixture(name: string, overrides: Partial<RawExchange> = {}): RawExchange {
  const dir = join(FIXTURES_DIR, name);
  const meta = JSON.parse(readFileSync(join(dir, 'exchange.json'), 'utf8')) as Meta;
  const requestFile = join(dir, 'request.json');
  return {
    ...meta,
    requestBody: existsSync(requestFile) ? readFileSync(requestFile) : Buffer.alloc(0),
    responseBody: responseBytes(dir),
    ...overrides,
  };
}

/** The part at a path; fails the test with the list of paths when missing. */
export function partAt(parts: readonly TextPart[], path: string): TextPart {
  const p = parts.find((x) => x.path === path);
  if (!p) throw new Error(`no part at ${path}; have:\n  ${parts.map((x) => x.path).join('\n  ')}`);
  return p;
}

/** No part may carry inline binary: base64 image/audio payloads are dropped, not inspected as text. */
export function assertNoInlineData(parts: readonly TextPart[], maxLength = 2000): void {
  for (const p of parts) {
    if (p.text.includes(';base64,') || p.text.length > maxLength) {
      throw new Error(`part ${p.path} looks like inline binary data (${p.text.length} chars)`);
    }
  }
}
