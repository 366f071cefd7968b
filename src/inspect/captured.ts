import type { Route } from '../proxy/routes.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { WsMessage } from '../types.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** What the proxy hands to inspection once an exchange is over: raw, bounded, not yet interpreted. */
export interface CapturedExchange {
  readonly id: string;
  readonly kind: 'http' | 'websocket';
  readonly route: Route;
  readonly method: string;
  /** Path and query as the client sent them. */
  readonly url: string;
  readonly requestHeaders: Headers;
  readonly responseHeaders: Headers;
  readonly status: number;
  readonly remoteAddress: string | undefined;
  readonly requestBody: Buffer;
  readonly requestTruncated: boolean;
  readonly responseBody: Buffer;
  readonly responseTruncated: boolean;
  readonly wsMessages: readonly WsMessage[];
  readonly timings: { readonly start: number; readonly firstByte?: number; readonly end: number };
}

export function capturedBytes(c: CapturedExchange): number {
  let n = c.requestBody.length + c.responseBody.length;
  for (const m of c.wsMessages) n += m.text.length;
  return n;
}

/** An exchange no detector will see still counts as a request, its provider and model unknown. */
export function countUninspected(metrics: Metrics, c: CapturedExchange): void {
  metrics.requests.add(1, { route: metrics.routeLabel.limit(c.route.name), provider: 'uninspected', model: 'none', status: String(c.status) });
}
