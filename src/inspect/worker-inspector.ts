import { Worker } from 'node:worker_threads';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import { applyMetricDeltas } from '../telemetry/relay-metrics.js';
import { capturedBytes, uninspectedCounter, type CapturedExchange } from './captured.js';
import { watchForwardingLoad } from './forwarding-load.js';
import type { FindingsConsumer, Inspector } from './inspector.js';
import { toWire, type FromWorker, type ToWorker, type WireCaptured, type WorkerData } from './worker-protocol.js';

// The proxy's side of the inspection worker. submit() posts the capture and
// returns; what is in flight is bounded by count and bytes, beyond which
// exchanges are dropped and counted; admits() lets the proxy skip capturing
// what would be dropped. If inspection.overload is on, while the forwarding
// thread runs at its limit inspection yields: the worker is paced
// lower and fewer exchanges may wait for it. A worker that dies is replaced:
// inspection fails open, traffic never notices.

export interface WorkerInspectorOptions {
  readonly config: Config;
  readonly fingerprintKey: Buffer;
  readonly consumer: FindingsConsumer;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);
// V8's default young generation is sized for a main thread; the worker's
// garbage is short-lived strings of one exchange at a time, and 8 MB keeps
// about 20 MB of the sidecar's resident memory free at no cost we could
// measure (bench/RESULTS.md).
const WORKER_YOUNG_GENERATION_MB = 8;
// Exchanges go to the worker in batches: sent BATCH_DELAY_MS after the first
// of a batch, or at once when BATCH_MAX have gathered. The worker then runs
// through several with warm caches instead of waking for each one, which
// measured about a fifth less of its CPU per exchange at 1,000 a second
// (bench/RESULTS.md); alerts wait at most that much longer.
const BATCH_DELAY_MS = 20;
const BATCH_MAX = 64;

export function createWorkerInspector(opts: WorkerInspectorOptions): Inspector & { ready: Promise<number> } {
  const { config, metrics, logger } = opts;
  const { maxQueue, maxCpuShare, overload } = config.inspection;
  const droppedQueueFull = metrics.inspectionDropped.bind({ reason: 'queue_full' });
  const droppedOverload = metrics.inspectionDropped.bind({ reason: 'overload' });
  const countUninspected = uninspectedCounter(metrics);
  const queueDepth = metrics.inspectionQueueDepth.bind({});
  const maxBytes = config.inspection.maxQueueBytes;
  // Bytes are tracked per exchange in submission order; the worker inspects in order.
  const sizes: number[] = [];
  let sizesHead = 0;
  let inFlightBytes = 0;
  let drainSeq = 0;
  const drainWaiters = new Map<number, () => void>();
  let closed = false;
  let worker: Worker;
  let resolveReady!: (n: number) => void;
  const ready = new Promise<number>((r) => (resolveReady = r));

  let queueLimit = maxQueue;
  let cpuShare = maxCpuShare;
  const pace = () => {
    const message: ToWorker = { type: 'pace', cpuShare, maxQueue: queueLimit };
    worker.postMessage(message);
  };
  let lastLogged = -Infinity;
  let unlogged = 0;
  const forwardingLoad = overload.enabled
    ? watchForwardingLoad({
        busyAbove: overload.busyAbove,
        calmBelow: overload.calmBelow,
        windowMs: overload.windowMs,
        onChange(busy, utilization) {
          queueLimit = busy ? Math.min(overload.maxQueue, maxQueue) : maxQueue;
          cpuShare = busy ? Math.min(overload.maxCpuShare, maxCpuShare) : maxCpuShare;
          pace();
          // Under a load that hovers at the threshold this changes every few windows: one line a minute says so.
          const now = Date.now();
          if (now - lastLogged < 60_000) {
            unlogged++;
            return;
          }
          logger.info(
            { utilization: Math.round(utilization * 100) / 100, cpuShare, maxQueue: queueLimit, changesSinceLastLine: unlogged },
            busy ? 'forwarding thread busy: inspection yields (exchanges beyond its queue are dropped, reason=overload)' : 'forwarding thread calm again: inspection takes its full budget',
          );
          lastLogged = now;
          unlogged = 0;
        },
      })
    : undefined;

  let batch: WireCaptured[] = [];
  let batchTimer: NodeJS.Timeout | undefined;
  const postBatch = () => {
    clearTimeout(batchTimer);
    batchTimer = undefined;
    if (batch.length === 0) return;
    const message: ToWorker = { type: 'captured', batch };
    batch = [];
    worker.postMessage(message);
  };
  const inFlight = () => sizes.length - sizesHead;
  const completed = (count: number) => {
    const before = sizesHead;
    for (let i = 0; i < count && sizesHead < sizes.length; i++) inFlightBytes -= sizes[sizesHead++]!;
    queueDepth.add(before - sizesHead);
    if (sizesHead > 4096 && sizesHead * 2 > sizes.length) {
      sizes.splice(0, sizesHead);
      sizesHead = 0;
    }
  };

  const start = () => {
    const data: WorkerData = { config, fingerprintKey: new Uint8Array(opts.fingerprintKey) };
    worker = new Worker(WORKER_URL, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'findings':
          try {
            opts.consumer.submit(m.findings, m.exchange);
          } catch (e) {
            logger.error({ err: { type: (e as Error).name } }, 'alert pipeline refused findings');
          }
          break;
        case 'metrics':
          applyMetricDeltas(metrics, m.deltas);
          break;
        case 'done':
          completed(m.count);
          break;
        case 'drained':
          drainWaiters.get(m.id)?.();
          drainWaiters.delete(m.id);
          break;
        case 'ready':
          resolveReady(m.detectors);
          break;
      }
    });
    worker.on('error', (e) => logger.error({ err: { type: e.name }, stack: e.stack?.split('\n').slice(0, 3).join(' | ') }, 'inspection worker failed'));
    worker.on('exit', (code) => {
      if (closed) return;
      const lost = inFlight();
      metrics.inspectionDropped.add(lost, { reason: 'worker_restart' });
      completed(lost);
      logger.error({ code, lost }, 'inspection worker exited; starting a new one (traffic unaffected)');
      start();
      if (cpuShare !== maxCpuShare) pace();
    });
  };
  start();

  /**
   * Why an exchange of `bytes` would be refused now, as the drop counter of
   * that reason; undefined when it would be taken. A refusal is counted
   * then: by the time a skipped exchange finishes, the queue may have room.
   */
  const refusal = (bytes: number) => {
    if (closed || inFlight() >= maxQueue || inFlightBytes + bytes > maxBytes) return droppedQueueFull;
    return inFlight() >= queueLimit ? droppedOverload : undefined;
  };

  return {
    ready,
    admits() {
      const refused = refusal(0);
      refused?.add(1);
      return refused === undefined;
    },
    skipped: countUninspected,
    submit(captured: CapturedExchange) {
      const bytes = capturedBytes(captured);
      const refused = refusal(bytes);
      if (refused) {
        refused.add(1);
        countUninspected(captured);
        return;
      }
      sizes.push(bytes);
      inFlightBytes += bytes;
      queueDepth.add(1);
      batch.push(toWire(captured));
      if (batch.length >= BATCH_MAX) postBatch();
      else if (batch.length === 1) (batchTimer = setTimeout(postBatch, BATCH_DELAY_MS)).unref();
    },
    drain(deadlineMs = 5000) {
      const id = ++drainSeq;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          drainWaiters.delete(id);
          resolve();
        }, deadlineMs);
        drainWaiters.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
        postBatch();
        const message: ToWorker = { type: 'drain', id, deadlineMs };
        worker.postMessage(message);
      });
    },
    get pending() {
      return inFlight();
    },
    async close() {
      closed = true;
      forwardingLoad?.close();
      clearTimeout(batchTimer);
      await worker.terminate();
    },
  };
}
