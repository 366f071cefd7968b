import type { Logger } from '../log.js';
import { LabelLimiter, type Metrics } from '../telemetry/metrics.js';
import type { OtelHandles } from '../telemetry/otel.js';
import { severityRank, type Alert, type Exchange, type Finding } from '../types.js';
import { buildAlert } from './build.js';
import type { AlertsConfig, SinkFilter } from './config.js';
import { IncidentTracker } from './incidents.js';
import { Inhibitor } from './inhibit.js';
import { compileIdPatterns } from './match.js';
import type { Notification } from './notification.js';
import { createRedisClaimer, type DedupClaimer } from './redis-dedup.js';
import { AlertRing } from './ring.js';
import { createRunbookResolver } from './runbooks.js';
import { Silences } from './silences.js';
import { createExchangeSpanRecorder, createOtelTransport, type ExchangeAlertEvent } from './sinks/otel.js';
import { SinkRunner, type Sink, type SinkTransport } from './sinks/sink.js';
import { createSlackTransport } from './sinks/slack.js';
import { createStdoutSink } from './sinks/stdout.js';
import { createStreamHub, type StreamHub } from './sinks/stream.js';
import { createWebhookTransport } from './sinks/webhook.js';

// Findings in, notifications out: silences → inhibition → dedup/grouping
// (cross-replica through Redis when configured) → the ring, the stream and
// every sink whose filter accepts the alert. submit() does only in-memory
// work and never waits on a sink or on Redis.

export interface AlertPipeline {
  /** Off the hot path: the findings of one exchange (possibly empty). Never throws, never awaits a sink. */
  submit(findings: readonly Finding[], exchange: Exchange): void;
  recent(limit: number): Alert[];
  /** Flush queues within the deadline, then stop. */
  close(deadlineMs?: number): Promise<void>;
  /** For the admin API: the silences (config + API) and the live stream. */
  readonly silences: Silences;
  readonly stream: StreamHub;
}

export interface AlertPipelineDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly otel?: OtelHandles;
  readonly stdout?: NodeJS.WritableStream;
  /** Tests: a dedup claimer other than Redis. */
  readonly claimer?: DedupClaimer;
}

interface Route {
  readonly sink: Sink;
  readonly accepts: (alert: Alert) => boolean;
}

export function createAlertPipeline(config: AlertsConfig, deps: AlertPipelineDeps): AlertPipeline {
  const { metrics, logger } = deps;
  const clock = deps.now ?? Date.now;
  const incidents = new IncidentTracker(config);
  const inhibitor = new Inhibitor(config.inhibition);
  const silences = new Silences(config.silences, clock);
  const ring = new AlertRing(config.sinks.stream.ringSize);
  const runbookFor = createRunbookResolver(config.runbookBaseUrl, config.runbooks);
  const detectorLabel = new LabelLimiter(500);
  const suppressed = { sink: 'pipeline', status: 'suppressed' };
  const stream = createStreamHub({ metrics, maxClients: config.sinks.stream.maxClients, maxBufferedBytes: config.sinks.stream.maxBufferedBytes });
  const routes = buildRoutes(config, deps, stream);
  const claimer = deps.claimer ?? (config.redisUrl ? createRedisClaimer(config.redisUrl, { timeoutMs: config.redisTimeoutMs, logger, metrics }) : undefined);
  const tracer = config.sinks.otel.enabled ? deps.otel?.tracerProvider?.getTracer('gatewatch') : undefined;
  const recordSpan = tracer ? createExchangeSpanRecorder(tracer) : undefined;

  const emit = (n: Notification): void => {
    if (n.kind === 'firing') {
      metrics.alerts.add(1, { detector: detectorLabel.limit(n.alert.detector), category: n.alert.category, severity: n.alert.severity });
    }
    ring.upsert(n.alert);
    for (const r of routes) if (r.accepts(n.alert)) r.sink.enqueue(n);
  };

  const fire = (key: string, alert: Alert): void => {
    if (!claimer) return emit({ kind: 'firing', alert });
    void claimer.claim(key, config.dedupWindowMs).then((result) => {
      if (result === 'taken') {
        incidents.mute(key);
        metrics.sinkAlerts.add(1, suppressed);
      } else emit({ kind: 'firing', alert });
    });
  };

  const tickMs = Math.min(1000, Math.max(50, Math.floor(Math.min(config.groupWindowMs, config.resolveAfterMs) / 4)));
  const ticker = setInterval(() => {
    try {
      for (const n of incidents.tick(clock())) emit(n);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'alerts: incident tick failed');
    }
  }, tickMs);
  ticker.unref();

  return {
    silences,
    stream,
    submit(findings, exchange) {
      const now = clock();
      const events: ExchangeAlertEvent[] = [];
      for (const finding of findings) {
        try {
          let alert = buildAlert(finding, exchange, now);
          if (finding.runbook === undefined) alert = { ...alert, runbook: runbookFor(alert.detector) };
          if (silences.silenced(alert, now) || inhibitor.inhibited(alert, now)) {
            metrics.sinkAlerts.add(1, suppressed);
            continue;
          }
          inhibitor.record(alert, now);
          const seen = incidents.observe(alert, now);
          events.push({ alert, deduplicated: !seen.fresh });
          if (seen.fresh) fire(seen.key, seen.alert);
        } catch (err) {
          // Fail open: a broken finding must never reach the traffic path.
          logger.error({ err: (err as Error).message }, 'alerts: a finding could not be turned into an alert');
        }
      }
      try {
        recordSpan?.(exchange, events);
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'alerts: exchange span failed');
      }
    },
    recent: (limit) => ring.recent(limit),
    async close(deadlineMs = 5000) {
      clearInterval(ticker);
      await Promise.allSettled(routes.map((r) => r.sink.close(deadlineMs)));
      await claimer?.close();
    },
  };
}

function buildRoutes(config: AlertsConfig, deps: AlertPipelineDeps, stream: StreamHub): Route[] {
  const { metrics, logger } = deps;
  const s = config.sinks;
  const d = config.delivery;
  const runner = (transport: SinkTransport, o: { queueSize: number; concurrency: number; ratePerMinute: number }): Sink =>
    new SinkRunner(transport, { ...o, retryBaseMs: d.retryBaseMs, retryMaxMs: d.retryMaxMs, maxAgeMs: d.maxAgeMs, metrics, logger });
  const routes: Route[] = [{ sink: stream, accepts: filter({ minSeverity: s.stream.minSeverity, categories: [], detectors: [] }) }];

  if (s.stdout.enabled) {
    routes.push({ sink: createStdoutSink({ metrics, stream: deps.stdout }), accepts: filter({ minSeverity: s.stdout.minSeverity, categories: [], detectors: [] }) });
  }
  const slackTargets = [...(s.slack.url ? [{ ...s.slack, name: 'default', url: s.slack.url }] : []), ...s.slack.routes];
  for (const target of slackTargets) {
    const transport = createSlackTransport({
      name: `slack-${target.name}`,
      url: target.url,
      digestThreshold: s.slack.digestThreshold,
      digestMax: s.slack.digestMax,
      dashboardUrl: s.slack.dashboardUrl,
      timeoutMs: d.timeoutMs,
      logger,
    });
    routes.push({ sink: runner(transport, { queueSize: s.slack.queueSize, concurrency: 1, ratePerMinute: s.slack.ratePerMinute }), accepts: filter(target) });
  }
  if (s.webhook.url) {
    if (!s.webhook.secret) logger.warn('alerts: webhook has no secret (GATEWATCH_WEBHOOK_SECRET): its deliveries are not signed');
    const transport = createWebhookTransport({ name: 'webhook', url: s.webhook.url, secret: s.webhook.secret, timeoutMs: d.timeoutMs });
    routes.push({ sink: runner(transport, s.webhook), accepts: filter(s.webhook) });
  }
  const otel = deps.otel;
  if (s.otel.enabled && otel?.createLogExporter) {
    const transport = createOtelTransport({ exporter: otel.createLogExporter(), resource: otel.resource, batchSize: s.otel.batchSize });
    routes.push({
      sink: runner(transport, { queueSize: s.otel.queueSize, concurrency: 1, ratePerMinute: 6000 }),
      accepts: filter({ minSeverity: s.otel.minSeverity, categories: [], detectors: [] }),
    });
  }
  return routes;
}

function filter(f: SinkFilter): (alert: Alert) => boolean {
  const min = severityRank(f.minSeverity);
  const categories = new Set(f.categories);
  const detector = compileIdPatterns(f.detectors, true);
  return (a) => severityRank(a.severity) >= min && (categories.size === 0 || categories.has(a.category)) && detector(a.detector);
}
