import type { IdentityResolver } from '../identity.js';
import { viewExchange, viewWsMessage } from '../providers/view.js';
import { decodeBody } from '../proxy/decode.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Exchange, TextPart, ToolCall } from '../types.js';
import type { CapturedExchange } from './captured.js';

// Turns a captured exchange into the normalized Exchange detectors read:
// decode the bodies (bounded), let the provider adapter interpret them,
// resolve the identity.

export interface AssembleOptions {
  readonly identity: IdentityResolver;
  readonly maxDecodedBytes: number;
  readonly metrics?: Metrics;
}

function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

export async function assembleExchange(c: CapturedExchange, opts: AssembleOptions): Promise<Exchange> {
  const { path, query } = splitUrl(c.url);
  const request = await decodeBody(c.requestBody, c.requestHeaders['content-encoding'], opts.maxDecodedBytes);
  const response = await decodeBody(c.responseBody, c.responseHeaders['content-encoding'], opts.maxDecodedBytes);
  if (opts.metrics) {
    const m = opts.metrics;
    m.bytesInspected.add(request.body.length, { direction: 'request' });
    m.bytesInspected.add(response.body.length, { direction: 'response' });
    if (c.requestTruncated) m.inspectionPartial.add(1, { direction: 'request', reason: 'cap' });
    if (c.responseTruncated) m.inspectionPartial.add(1, { direction: 'response', reason: 'cap' });
    if (request.reason) m.inspectionPartial.add(1, { direction: 'request', reason: request.reason });
    if (response.reason) m.inspectionPartial.add(1, { direction: 'response', reason: response.reason });
  }
  const view = viewExchange({
    method: c.method,
    path,
    query,
    requestHeaders: c.requestHeaders,
    responseHeaders: c.responseHeaders,
    status: c.status,
    requestBody: request.body,
    responseBody: response.body,
    providerHint: c.route.provider,
  });
  const prompt: TextPart[] = [...view.prompt];
  const completion: TextPart[] = [...view.completion];
  const toolCalls: ToolCall[] = [...view.toolCalls];
  c.wsMessages.forEach((message, i) => {
    const parts = viewWsMessage(message.direction, message.text, i);
    prompt.push(...parts.prompt);
    completion.push(...parts.completion);
    toolCalls.push(...parts.toolCalls);
  });
  const traceparent = c.requestHeaders.traceparent;
  const trace = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent.trim()) : null;
  return {
    id: c.id,
    ...(trace ? { traceId: trace[1] } : {}),
    direction: c.route.direction,
    route: { name: c.route.name, upstream: c.route.target.origin },
    method: c.method,
    path,
    query,
    requestHeaders: c.requestHeaders,
    responseHeaders: c.responseHeaders,
    identity: opts.identity.resolve(c.requestHeaders, query, c.remoteAddress),
    provider: view.provider,
    operation: c.kind === 'websocket' && view.operation === 'other' ? 'realtime' : view.operation,
    ...(view.model !== undefined ? { model: view.model } : {}),
    stream: view.stream || c.kind === 'websocket',
    prompt,
    completion,
    toolCalls,
    wsMessages: c.wsMessages,
    usage: view.usage,
    status: c.status,
    timings: c.timings,
    truncated: {
      request: c.requestTruncated || request.partial,
      response: c.responseTruncated || response.partial,
    },
  };
}
