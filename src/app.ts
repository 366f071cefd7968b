import { createAlertsApi } from './admin/alerts-api.js';
import { createAlertsPage } from './admin/ui/page.js';
import { createAdminServer, type AdminExtension } from './admin/server.js';
import { createAlertPipeline, type AlertPipeline } from './alerts/pipeline.js';
import { parseHostPort } from './config/load.js';
import type { Config } from './config/types.js';
import { uninspectedCounter } from './inspect/captured.js';
import type { Inspector } from './inspect/inspector.js';
import type { LocalInspection } from './inspect/local.js';
import { createWorkerInspector } from './inspect/worker-inspector.js';
import { ephemeralFingerprintKey } from './fingerprint.js';
import { createLogger, redactUrl, type Logger } from './log.js';
import { RouteTable } from './proxy/routes.js';
import { createProxyServer } from './proxy/server.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { createOtel } from './telemetry/otel.js';
import type { Detector } from './types.js';

// Wiring only: configuration in, a running sidecar out.

export interface StartOptions {
  readonly logger?: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the stdout alert sink writes (default process.stdout). */
  readonly stdout?: NodeJS.WritableStream;
  /** Clock for detectors (tests). */
  readonly now?: () => number;
  /** Extra admin extensions (e.g. the live alerts page). */
  readonly adminExtensions?: readonly AdminExtension[];
  /** Replace the detector set (tests). */
  readonly detectors?: (defaults: Detector[]) => Detector[];
}

export interface Gatewatch {
  readonly proxyAddress: { host: string; port: number };
  readonly adminAddress: { host: string; port: number };
  readonly metrics: Metrics;
  readonly alerts: AlertPipeline;
  readonly inspector: Inspector;
  readonly detectorCount: number;
  /** Graceful stop: in-flight requests finish, inspection drains, alerts flush, within the deadline. */
  close(deadlineMs?: number): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export async function startGatewatch(config: Config, opts: StartOptions = {}): Promise<Gatewatch> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? createLogger({ level: config.log.level });
  const otel = createOtel(env);
  const metrics = createMetrics({
    readers: otel?.createMetricReader ? [otel.createMetricReader] : [],
    serviceName: env.OTEL_SERVICE_NAME || 'gatewatch',
  });

  if (config.fingerprintKey === null) {
    logger.warn('GATEWATCH_FINGERPRINT_KEY is not set: using a random key, so fingerprints differ across replicas and restarts');
  }
  const fingerprintKey = config.fingerprintKey !== null ? Buffer.from(config.fingerprintKey, 'utf8') : ephemeralFingerprintKey();
  const alerts = createAlertPipeline(config.alerts, {
    metrics,
    logger,
    ...(opts.now ? { now: opts.now } : {}),
    ...(otel ? { otel } : {}),
    ...(opts.stdout ? { stdout: opts.stdout } : {}),
  });
  const inline = config.inspection.mode === 'inline' || opts.detectors !== undefined || opts.now !== undefined;
  const { inspector, detectorCount, closeState } = !config.inspection.enabled
    ? noInspection(metrics)
    : inline
      ? await startInlineInspection(config, opts, { fingerprintKey, alerts, metrics, logger })
      : await startWorkerInspection(config, { fingerprintKey, alerts, metrics, logger });

  const routes = new RouteTable(config);
  const proxy = createProxyServer({
    routes,
    forwarding: {
      xForwarded: config.proxy.xForwarded,
      hostHeader: config.proxy.hostHeader,
      upstreamTimeoutMs: config.proxy.upstreamTimeoutMs,
      connectTimeoutMs: config.proxy.connectTimeoutMs,
      maxSockets: config.proxy.maxSockets,
      rejectUnauthorized: config.proxy.rejectUnauthorized,
    },
    maxRequestBytes: config.capture.maxRequestBytes,
    maxResponseBytes: config.capture.maxResponseBytes,
    websocket: {
      connectTimeoutMs: config.proxy.connectTimeoutMs,
      rejectUnauthorized: config.proxy.rejectUnauthorized,
      xForwarded: config.proxy.xForwarded,
      maxMessageBytes: config.capture.maxWebSocketMessageBytes,
    },
    onCaptured: (c) => inspector.submit(c),
    ...(inspector.admits && inspector.skipped ? { admits: inspector.admits, onSkipped: inspector.skipped } : {}),
    metrics,
    logger,
  });

  const admin = parseHostPort(config.admin);
  const adminOnLoopback = isLoopback(admin.host);
  if (!adminOnLoopback && config.adminToken === null) {
    logger.warn(
      { admin: config.admin },
      'admin listener is not on loopback and no GATEWATCH_ADMIN_TOKEN is set: the alerts API and stream refuse every request until a token is configured',
    );
  }
  const alertsApi = createAlertsApi({
    pipeline: alerts,
    token: config.adminToken ?? undefined,
    requireToken: !adminOnLoopback,
  });
  const alertsPage = createAlertsPage({ ...(config.adminToken ? { token: config.adminToken } : {}), requireToken: !adminOnLoopback });
  const adminServer = createAdminServer({
    metrics,
    upstreams: [new URL(config.upstream)],
    extensions: [alertsApi, alertsPage, ...(opts.adminExtensions ?? [])],
  });

  const listen = parseHostPort(config.listen);
  const proxyAddress = await proxy.listen(listen.port, listen.host);
  let adminAddress: { host: string; port: number };
  try {
    adminAddress = await adminServer.listen(admin.port, admin.host);
  } catch (e) {
    await proxy.close(0);
    throw e;
  }
  const sinks = [
    'stream',
    config.alerts.sinks.stdout.enabled && 'stdout',
    config.alerts.sinks.slack.url && 'slack',
    ...config.alerts.sinks.slack.routes.map((r) => `slack-${r.name}`),
    config.alerts.sinks.webhook.url && 'webhook',
    otel && 'otel',
  ].filter((s): s is string => typeof s === 'string');
  logger.info(
    {
      proxy: `${proxyAddress.host}:${proxyAddress.port}`,
      admin: `${adminAddress.host}:${adminAddress.port}`,
      page: `http://${adminAddress.host}:${adminAddress.port}/ui/`,
      upstream: redactUrl(config.upstream),
      routes: routes.all.map((r) => `${r.prefix} -> ${redactUrl(r.target.origin)}`),
      detectors: detectorCount,
      inspection: inline ? 'inline' : 'worker',
      sinks,
      state: config.state.redisUrl ? 'redis' : 'memory',
    },
    'gatewatch listening',
  );
  if (config.alerts.sinks.webhook.url && !config.alerts.sinks.webhook.secret) {
    logger.warn('GATEWATCH_WEBHOOK_URL is set without GATEWATCH_WEBHOOK_SECRET: webhook payloads are unsigned');
  }
  if (!config.proxy.rejectUnauthorized) logger.warn('proxy.rejectUnauthorized is false: upstream TLS certificates are not verified');
  if (!config.inspection.enabled) logger.warn('inspection is disabled: traffic is forwarded but nothing is detected');

  let closing: Promise<void> | undefined;
  return {
    proxyAddress,
    adminAddress,
    metrics,
    alerts,
    inspector,
    detectorCount,
    close(deadlineMs = 10_000) {
      closing ??= (async () => {
        const started = Date.now();
        const left = () => Math.max(0, deadlineMs - (Date.now() - started));
        await proxy.close(left());
        await inspector.drain(left());
        await inspector.close?.();
        await alerts.close(left());
        alertsApi.close();
        alertsPage.close();
        await adminServer.close();
        await closeState();
        // Exporters flush on shutdown; a dead collector must not hold the exit past the deadline.
        await withDeadline(Promise.all([metrics.shutdown(), otel?.shutdown()]), Math.max(left(), 100));
      })();
      return closing;
    },
  };
}

function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}

interface InspectionDeps {
  readonly fingerprintKey: Buffer;
  readonly alerts: AlertPipeline;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * Detectors on the main thread: for tests with their own detectors or clock,
 * and `inspection.mode: inline`. Loaded only then: in worker mode the
 * detectors live in the worker, and the main thread saves their memory.
 */
async function startInlineInspection(config: Config, opts: StartOptions, deps: InspectionDeps): Promise<LocalInspection> {
  const { createLocalInspection } = await import('./inspect/local.js');
  return createLocalInspection(config, {
    fingerprintKey: deps.fingerprintKey,
    consumer: deps.alerts,
    maxQueue: config.inspection.maxQueue,
    maxQueueBytes: config.inspection.maxQueueBytes,
    metrics: deps.metrics,
    logger: deps.logger,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.detectors ? { detectors: opts.detectors } : {}),
  });
}

/** Inspection disabled: no worker, no detectors, no state; traffic is only forwarded and counted. */
function noInspection(metrics: Metrics): LocalInspection {
  const countUninspected = uninspectedCounter(metrics);
  return {
    // Nothing is captured: admits() says no to every exchange.
    inspector: { submit: countUninspected, admits: () => false, skipped: countUninspected, drain: () => Promise.resolve(), pending: 0 },
    detectorCount: 0,
    closeState: async () => undefined,
  };
}

/** Detectors on their own thread: a slow scan never holds up forwarding. */
async function startWorkerInspection(config: Config, deps: InspectionDeps): Promise<LocalInspection> {
  const inspector = createWorkerInspector({
    config,
    fingerprintKey: deps.fingerprintKey,
    consumer: deps.alerts,
    metrics: deps.metrics,
    logger: deps.logger,
  });
  const detectorCount = await inspector.ready;
  return { inspector, detectorCount, closeState: async () => undefined };
}
