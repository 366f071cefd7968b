import type { Config } from '../config/types.js';
import type { Route } from '../proxy/routes.js';
import type { MetricDeltas } from '../telemetry/relay-metrics.js';
import type { Exchange, Finding } from '../types.js';
import type { CapturedExchange } from './captured.js';

// Messages between the proxy (main thread) and the inspection worker.
// Everything here must survive structured cloning: no URL objects, and
// Buffers arrive as plain Uint8Arrays.

export interface WorkerData {
  readonly config: Config;
  readonly fingerprintKey: Uint8Array;
}

export type WireRoute = Omit<Route, 'target'> & { readonly target: string };
export type WireCaptured = Omit<CapturedExchange, 'route'> & { readonly route: WireRoute };

export type ToWorker =
  | { type: 'captured'; batch: WireCaptured[] }
  | { type: 'drain'; id: number; deadlineMs: number }
  /** The share of a core inspection may use from now on, and how many exchanges may wait (the rest are shed). */
  | { type: 'pace'; cpuShare: number; maxQueue: number };

export type FromWorker =
  | { type: 'findings'; findings: readonly Finding[]; exchange: Exchange }
  | { type: 'metrics'; deltas: MetricDeltas }
  | { type: 'done'; count: number }
  | { type: 'drained'; id: number }
  | { type: 'ready'; detectors: number };

export function toWire(c: CapturedExchange): WireCaptured {
  return { ...c, route: { ...c.route, target: c.route.target.href } };
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export function fromWire(w: WireCaptured): CapturedExchange {
  return {
    ...w,
    route: { ...w.route, target: new URL(w.route.target) },
    requestBody: asBuffer(w.requestBody),
    responseBody: asBuffer(w.responseBody),
  };
}

/**
 * What the main thread needs of an exchange to build and send alerts: no
 * headers (they hold the client's key) and no prompt or completion text.
 */
export function slimExchange(e: Exchange): Exchange {
  return { ...e, requestHeaders: {}, responseHeaders: {}, prompt: [], completion: [], toolCalls: [], wsMessages: [] };
}
