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

/**
 * Counts the exchanges no detector will see: each still counts as a
 * request, its provider and model unknown. This runs on the forwarding
 * thread for every request when inspection is off or saturated, so the
 * series is bound once per route and status rather than looked up by its
 * attributes each time.
 */
export function uninspectedCounter(metrics: Metrics): (c: Pick<CapturedExchange, 'route' | 'status'>) => void {
  const byRoute = new WeakMap<Route, Map<number, { add(value: number): void }>>();
  return (c) => {
    let byStatus = byRoute.get(c.route);
    if (!byStatus) byRoute.set(c.route, (byStatus = new Map()));
    let series = byStatus.get(c.status);
    if (!series) {
      series = metrics.requests.bind({ route: metrics.routeLabel.limit(c.route.name), provider: 'uninspected', model: 'none', status: String(c.status) });
      byStatus.set(c.status, series);
    }
    series.add(1);
  };
}
