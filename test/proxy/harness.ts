import type { CapturedExchange } from '../../src/inspect/captured.js';
import { silentLogger } from '../../src/log.js';
import { RouteTable } from '../../src/proxy/routes.js';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import type { RouteConfig } from '../../src/config/types.js';

// A proxy on loopback in front of a test upstream, recording what it hands to inspection.

export interface TestProxy {
  readonly url: string;
  readonly port: number;
  readonly captured: CapturedExchange[];
  /** Exchanges forwarded without capture (admits() said no), as route name and status. */
  readonly skipped: Array<[string, number]>;
  readonly metrics: Metrics;
  readonly proxy: ProxyServer;
  /** Resolves with the next captured exchange. */
  nextCapture(): Promise<CapturedExchange>;
  close(): Promise<void>;
}

export interface TestProxyOptions {
  routes?: RouteConfig[];
  preserveHost?: boolean;
  hostHeader?: string | null;
  upstreamTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxRequestBytes?: number;
  maxResponseBytes?: number;
  rejectUnauthorized?: boolean;
  /** Whether inspection would take an exchange starting now (default: always). */
  admits?: () => boolean;
}

export async function startTestProxy(upstream: string, o: TestProxyOptions = {}): Promise<TestProxy> {
  const metrics = createMetrics();
  const captured: CapturedExchange[] = [];
  const skipped: Array<[string, number]> = [];
  const waiters: Array<(c: CapturedExchange) => void> = [];
  const proxyConfig = {
    preserveHost: o.preserveHost ?? true,
    hostHeader: o.hostHeader ?? null,
    xForwarded: true,
    trustedProxies: ['127.0.0.1/32'],
    upstreamTimeoutMs: o.upstreamTimeoutMs ?? 30_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 2_000,
    maxSockets: 64,
    rejectUnauthorized: o.rejectUnauthorized ?? true,
  };
  const routes = new RouteTable({ routes: o.routes ?? [], upstream, direction: 'ingress', proxy: proxyConfig });
  const proxy = createProxyServer({
    routes,
    forwarding: proxyConfig,
    maxRequestBytes: o.maxRequestBytes ?? 1024 * 1024,
    maxResponseBytes: o.maxResponseBytes ?? 1024 * 1024,
    websocket: { connectTimeoutMs: proxyConfig.connectTimeoutMs, rejectUnauthorized: proxyConfig.rejectUnauthorized, xForwarded: true, maxMessageBytes: 256 * 1024, batchMs: 20 },
    onCaptured: (c) => {
      const w = waiters.shift();
      if (w) w(c);
      else captured.push(c);
    },
    ...(o.admits ? { admits: o.admits } : {}),
    onSkipped: (e) => skipped.push([e.route.name, e.status]),
    metrics,
    logger: silentLogger(),
  });
  const address = await proxy.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    captured,
    skipped,
    metrics,
    proxy,
    nextCapture: () => {
      const c = captured.shift();
      return c ? Promise.resolve(c) : new Promise((resolve) => waiters.push(resolve));
    },
    close: async () => {
      await proxy.close(500);
      await metrics.shutdown();
    },
  };
}
