import type { Exchange } from './types.js';

let counter = 0;

/** Builds an Exchange with neutral defaults: for `gatewatch scan`, replay and tests. */
export function makeExchange(fields: Partial<Exchange> = {}): Exchange {
  const now = Date.now();
  return {
    id: fields.id ?? `ex-${++counter}`,
    direction: 'ingress',
    route: { name: 'default', upstream: 'http://127.0.0.1:4000' },
    method: 'POST',
    path: '/',
    query: '',
    requestHeaders: {},
    responseHeaders: {},
    identity: { clientIp: '127.0.0.1' },
    provider: 'unknown',
    operation: 'other',
    stream: false,
    prompt: [],
    completion: [],
    toolCalls: [],
    wsMessages: [],
    usage: {},
    status: 200,
    timings: { start: now, end: now },
    truncated: { request: false, response: false },
    ...fields,
  };
}
