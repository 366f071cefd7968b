import { GatewatchError, type ErrorCode } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { Notification } from '../notification.js';

// The one delivery engine every network sink runs behind: a bounded queue
// (overflow drops the new alert and counts it), limited concurrency, a
// token-bucket rate limit, retries with full-jitter exponential backoff that
// honour Retry-After, a maximum age after which an alert is dropped, and a
// sink that disables itself on a permanent error. enqueue() never blocks and
// never throws, so a slow or dead sink cannot slow traffic.

/** One sink's way of delivering: builds its payload and sends it once. */
export interface SinkTransport {
  /** Metric label; bounded (fixed per configured sink). */
  readonly name: string;
  /** How many queued notifications to hand over at once (default 1). */
  batchSize?(queued: number): number;
  /** `signal` aborts when the sink closes past its deadline. */
  send(batch: readonly Notification[], signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

export type DeliveryOutcome = 'retry' | 'reject' | 'disable';

/** Thrown by a transport. Its message must never hold the sink's URL or secret. */
export class DeliveryError extends GatewatchError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly outcome: DeliveryOutcome,
    readonly retryAfterMs?: number,
  ) {
    super(code, message);
  }
}

export interface SinkRunnerOptions {
  readonly queueSize: number;
  readonly concurrency: number;
  readonly ratePerMinute: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxAgeMs: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** What the pipeline sees of a sink. */
export interface Sink {
  readonly name: string;
  enqueue(n: Notification): void;
  readonly depth: number;
  close(deadlineMs: number): Promise<void>;
}

interface Queued {
  readonly n: Notification;
  readonly at: number;
}

export class SinkRunner implements Sink {
  readonly name: string;
  private readonly queue: Queued[] = [];
  private active = 0;
  private tokens: number;
  private readonly burst: number;
  private readonly tokensPerMs: number;
  private refilledAt = Date.now();
  private pausedUntil = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private disabled = false;
  private closing = false;
  private readonly labels: Record<'ok' | 'error' | 'dropped' | 'retried', { sink: string; status: string }>;
  private readonly depthLabels: { sink: string };
  private idleWaiters: Array<() => void> = [];
  private readonly abort = new AbortController();

  constructor(
    private readonly transport: SinkTransport,
    private readonly opts: SinkRunnerOptions,
  ) {
    this.name = transport.name;
    this.burst = Math.max(1, Math.min(10, Math.floor(opts.ratePerMinute / 6)));
    this.tokens = this.burst;
    this.tokensPerMs = opts.ratePerMinute / 60_000;
    const sink = transport.name;
    this.labels = {
      ok: { sink, status: 'ok' },
      error: { sink, status: 'error' },
      dropped: { sink, status: 'dropped' },
      retried: { sink, status: 'retried' },
    };
    this.depthLabels = { sink };
  }

  get depth(): number {
    return this.queue.length;
  }

  enqueue(n: Notification): void {
    if (this.disabled || this.closing || this.queue.length >= this.opts.queueSize) {
      this.opts.metrics.sinkAlerts.add(1, this.labels.dropped);
      return;
    }
    this.queue.push({ n, at: Date.now() });
    this.opts.metrics.sinkQueueDepth.add(1, this.depthLabels);
    this.pump();
  }

  async close(deadlineMs: number): Promise<void> {
    const started = Date.now();
    this.closing = true;
    const idle = new Promise<void>((resolve) => {
      if (this.queue.length === 0 && this.active === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadlineMs));
    });
    await Promise.race([idle, deadline]);
    clearTimeout(timer);
    clearTimeout(this.wakeTimer);
    this.abort.abort();
    this.dropQueued();
    // A transport's own shutdown (an exporter flushing to a dead collector) gets what is left of the deadline.
    const left = Math.max(100, deadlineMs - (Date.now() - started));
    let closeTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.resolve(this.transport.close?.()).catch(() => undefined),
      new Promise<void>((resolve) => (closeTimer = setTimeout(resolve, left))),
    ]);
    clearTimeout(closeTimer);
  }

  private pump(): void {
    while (!this.disabled && this.active < this.opts.concurrency && this.queue.length > 0) {
      const now = Date.now();
      const wait = Math.max(this.pausedUntil - now, this.takeToken(now));
      if (wait > 0) {
        this.wakeIn(wait);
        return;
      }
      const size = Math.max(1, Math.min(this.transport.batchSize?.(this.queue.length) ?? 1, this.queue.length));
      const batch = this.queue.splice(0, size);
      this.opts.metrics.sinkQueueDepth.add(-batch.length, this.depthLabels);
      this.active++;
      void this.deliver(batch).finally(() => {
        this.active--;
        this.pump();
        if (this.queue.length === 0 && this.active === 0) this.notifyIdle();
      });
    }
    if (this.queue.length === 0 && this.active === 0) this.notifyIdle();
  }

  /** Takes a token if there is one (returns 0), else returns the ms until the next. */
  private takeToken(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) * this.tokensPerMs);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / this.tokensPerMs);
  }

  private wakeIn(ms: number): void {
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.pump();
    }, ms);
    this.wakeTimer.unref();
  }

  private async deliver(batch: Queued[]): Promise<void> {
    const items = batch.map((q) => q.n);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.transport.send(items, this.abort.signal);
        this.opts.metrics.sinkAlerts.add(items.length, this.labels.ok);
        return;
      } catch (err) {
        const e = asDeliveryError(err);
        if (e.outcome === 'disable') {
          this.disable(e, items.length);
          return;
        }
        if (e.outcome === 'reject') {
          this.opts.metrics.sinkAlerts.add(items.length, this.labels.error);
          this.opts.logger.error({ sink: this.name, code: e.code, err: e.message }, 'alerts: sink rejected an alert');
          return;
        }
        const oldest = batch[0]!.at;
        const backoff = Math.max(e.retryAfterMs ?? 0, jitteredBackoff(attempt, this.opts.retryBaseMs, this.opts.retryMaxMs));
        if (this.closing || Date.now() + backoff - oldest > this.opts.maxAgeMs) {
          this.opts.metrics.sinkAlerts.add(items.length, this.labels.dropped);
          this.opts.logger.warn({ sink: this.name, code: e.code, err: e.message, attempts: attempt + 1 }, 'alerts: sink unavailable, alert dropped');
          return;
        }
        if (e.retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, Date.now() + e.retryAfterMs);
        this.opts.metrics.sinkAlerts.add(items.length, this.labels.retried);
        if (attempt === 0) this.opts.logger.warn({ sink: this.name, code: e.code, err: e.message }, 'alerts: sink delivery failed, retrying');
        if (!(await sleep(backoff, this.abort.signal))) {
          this.opts.metrics.sinkAlerts.add(items.length, this.labels.dropped);
          return;
        }
      }
    }
  }

  private disable(e: DeliveryError, inFlight: number): void {
    this.disabled = true;
    this.opts.logger.error({ sink: this.name, code: e.code, err: e.message }, 'alerts: sink disabled; fix its configuration and restart');
    this.opts.metrics.sinkAlerts.add(inFlight, this.labels.error);
    this.dropQueued();
  }

  private dropQueued(): void {
    if (this.queue.length === 0) return;
    this.opts.metrics.sinkAlerts.add(this.queue.length, this.labels.dropped);
    this.opts.metrics.sinkQueueDepth.add(-this.queue.length, this.depthLabels);
    this.queue.length = 0;
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Full jitter: a random delay in [0, min(max, base·2^attempt)], at least 1 ms. */
export function jitteredBackoff(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.floor(Math.random() * ceiling));
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function asDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  // Network failures: keep only the error code (messages can name hosts).
  const code = (err as NodeJS.ErrnoException)?.code ?? ((err as { cause?: NodeJS.ErrnoException })?.cause?.code ?? 'unknown');
  return new DeliveryError('GW_ERR_SINK_UNAVAILABLE', `sink unreachable (${code})`, 'retry');
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** POSTs JSON with a timeout; maps statuses the same way for every HTTP sink. */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; text: string; retryAfterMs?: number }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new DeliveryError('GW_ERR_SINK_UNAVAILABLE', `sink timed out after ${timeoutMs} ms`, 'retry');
    throw asDeliveryError(err);
  }
  // Bodies are read only up to a small size: a sink's answer is a status word.
  const text = await readCapped(res, 4096);
  return { status: res.status, text, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A broken body leaves us with what arrived.
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, 200);
}
