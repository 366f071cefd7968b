import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Exchange, Finding } from '../types.js';
import { assembleExchange, type AssembleOptions } from './assemble.js';
import { capturedBytes, uninspectedCounter, type CapturedExchange } from './captured.js';
import type { CpuPacer } from './cpu-pacer.js';
import type { DetectorRunner } from './run-detectors.js';

// The inspection queue. The proxy calls submit() when an exchange is over and
// moves on; exchanges are inspected one at a time, each step in its own
// macrotask so forwarding I/O is never starved. When the queue is full the
// exchange is dropped and counted: traffic never waits for inspection.

export interface FindingsConsumer {
  submit(findings: readonly Finding[], exchange: Exchange): void;
}

export interface InspectorOptions extends AssembleOptions {
  readonly runner: DetectorRunner;
  readonly consumer: FindingsConsumer;
  readonly maxQueue: number;
  readonly maxQueueBytes: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Called after each exchange has been inspected (or failed to be). */
  readonly onInspected?: () => void;
  /** Paces inspection work (CPU budget); by default every exchange runs at once. */
  readonly pacer?: CpuPacer;
  /**
   * Whether this queue reports gatewatch_inspection_queue_depth (default true).
   * The inspection worker's does not: the proxy's side counts what it has
   * posted and not yet heard back about, which includes this queue.
   */
  readonly countsQueueDepth?: boolean;
}

export interface Inspector {
  submit(captured: CapturedExchange): void;
  /** Resolves when the queue is empty (or the deadline passes). */
  drain(deadlineMs?: number): Promise<void>;
  readonly pending: number;
  /**
   * Drops what waits beyond the first `keep` exchanges (the inspection side
   * yields to busy forwarding), counted as overload; returns how many.
   */
  shed?(keep: number): number;
  /**
   * Whether an exchange starting now would be taken. When it would not, the
   * proxy forwards it without capturing its bodies and reports it to
   * skipped() instead of submit(): nothing is copied for an exchange that
   * would be dropped. Without it every exchange is captured. A no is
   * counted as a drop, with the reason that held then.
   */
  admits?(): boolean;
  /** Counts an exchange forwarded without capture because admits() said no, once it has finished. */
  skipped?(exchange: Pick<CapturedExchange, 'route' | 'status'>): void;
  /** Stops the inspection thread, if there is one. */
  close?(): Promise<void>;
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createInspector(opts: InspectorOptions): Inspector {
  const queue: CapturedExchange[] = [];
  let head = 0;
  let queuedBytes = 0;
  let running = false;
  const idleWaiters: Array<() => void> = [];
  const now = opts.now ?? Date.now;
  const { metrics } = opts;
  const droppedQueueFull = metrics.inspectionDropped.bind({ reason: 'queue_full' });
  const droppedOverload = metrics.inspectionDropped.bind({ reason: 'overload' });
  const countUninspected = uninspectedCounter(metrics);
  const depth = opts.countsQueueDepth === false ? undefined : metrics.inspectionQueueDepth.bind({});

  // Each set of attributes written out: `{ ...attrs, type }` costs V8 (Node 20) a runtime call per added key.
  const countRequest = (ex: Exchange) => {
    const route = metrics.routeLabel.limit(ex.route.name);
    const { provider } = ex;
    const model = metrics.modelLabel.limit(ex.model);
    const status = String(ex.status);
    metrics.requests.add(1, { route, provider, model, status });
    const { promptTokens, completionTokens } = ex.usage;
    if (promptTokens) metrics.tokens.add(promptTokens, { route, provider, model, status, type: 'prompt' });
    if (completionTokens) metrics.tokens.add(completionTokens, { route, provider, model, status, type: 'completion' });
  };

  const inspectOne = async (captured: CapturedExchange) => {
    let exchange: Exchange;
    try {
      exchange = await assembleExchange(captured, opts);
    } catch (e) {
      opts.logger.warn({ err: { type: (e as Error).name } }, 'could not assemble exchange for inspection');
      return;
    }
    if (captured.kind === 'http') countRequest(exchange);
    await yieldToIo();
    const findings = await opts.runner.run(exchange, { now: now() });
    for (const f of findings) metrics.findings.add(1, { detector: f.detector, category: f.category, severity: f.severity });
    try {
      opts.consumer.submit(findings, exchange);
    } catch (e) {
      opts.logger.error({ err: { type: (e as Error).name } }, 'alert pipeline refused findings');
    }
  };

  const loop = async () => {
    running = true;
    while (head < queue.length) {
      const captured = queue[head]!;
      queue[head++] = undefined as unknown as CapturedExchange;
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      queuedBytes -= capturedBytes(captured);
      if (opts.pacer) await opts.pacer.run(() => inspectOne(captured));
      else await inspectOne(captured);
      depth?.add(-1);
      opts.onInspected?.();
      await yieldToIo();
    }
    queue.length = 0;
    head = 0;
    running = false;
    for (const wake of idleWaiters.splice(0)) wake();
  };

  return {
    submit(captured) {
      const bytes = capturedBytes(captured);
      if (queue.length - head >= opts.maxQueue || queuedBytes + bytes > opts.maxQueueBytes) {
        droppedQueueFull.add(1);
        countUninspected(captured);
        return;
      }
      queue.push(captured);
      queuedBytes += bytes;
      depth?.add(1);
      if (!running) {
        running = true;
        setImmediate(() => void loop());
      }
    },
    drain(deadlineMs = 5000) {
      if (!running && head >= queue.length) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadlineMs);
        timer.unref();
        idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    get pending() {
      return queue.length - head;
    },
    shed(keep) {
      const excess = queue.length - head - keep;
      if (excess <= 0) return 0;
      for (const c of queue.splice(queue.length - excess, excess)) {
        queuedBytes -= capturedBytes(c);
        countUninspected(c);
      }
      droppedOverload.add(excess);
      depth?.add(-excess);
      return excess;
    },
  };
}
