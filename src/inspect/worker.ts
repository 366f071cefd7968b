import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log.js';
import { createRecordingMetrics } from '../telemetry/relay-metrics.js';
import { createCpuPacer } from './cpu-pacer.js';
import { createLocalInspection } from './local.js';
import { niceCurrentThread } from './thread-priority.js';
import { fromWire, slimExchange, type FromWorker, type ToWorker, type WorkerData } from './worker-protocol.js';

// The inspection worker: decode, view, identity and every detector run
// here, on their own thread, so a slow scan never holds up forwarding.

const port = parentPort!;
const { config, fingerprintKey } = workerData as WorkerData;
const post = (message: FromWorker) => port.postMessage(message);

const logger = createLogger({ level: config.log.level }).child({ thread: 'inspection' });
const priority = niceCurrentThread(config.inspection.niceness);
if (priority.applied) logger.debug({ tid: priority.tid, niceness: priority.niceness }, 'inspection thread niced');
// Elsewhere than Linux a thread's priority cannot be set on its own: expected, not worth a warning.
else if (config.inspection.niceness > 0) logger[process.platform === 'linux' ? 'warn' : 'debug']({ reason: priority.reason }, 'inspection thread runs at the proxy\'s priority');
const recorder = createRecordingMetrics();
const metrics = recorder.metrics;
let done = 0;
const pacer = createCpuPacer(config.inspection.maxCpuShare);
const { inspector, detectorCount, closeState } = createLocalInspection(config, {
  fingerprintKey: Buffer.from(fingerprintKey),
  consumer: {
    submit(findings, exchange) {
      if (findings.length === 0) return;
      // Metrics first: whoever sees the alert must also see the counts behind it.
      flushMetrics();
      post({ type: 'findings', findings, exchange: slimExchange(exchange) });
    },
  },
  // The main thread bounds what is in flight; the worker takes all it is sent.
  maxQueue: Number.MAX_SAFE_INTEGER,
  maxQueueBytes: Number.MAX_SAFE_INTEGER,
  countsQueueDepth: false,
  pacer,
  metrics,
  logger,
  onInspected: () => {
    done++;
  },
});

function flushMetrics(): void {
  const deltas = recorder.drain();
  if (deltas.length > 0) post({ type: 'metrics', deltas });
}

const flush = () => {
  flushMetrics();
  if (done > 0) {
    post({ type: 'done', count: done });
    done = 0;
  }
};
setInterval(flush, 100).unref();

port.on('message', (message: ToWorker) => {
  if (message.type === 'captured') for (const c of message.batch) inspector.submit(fromWire(c));
  else if (message.type === 'pace') {
    pacer.setShare(message.cpuShare);
    // Shed exchanges count as done: the main thread's in-flight bound counts them out the same way.
    done += inspector.shed?.(message.maxQueue) ?? 0;
  } else if (message.type === 'drain') {
    void inspector.drain(message.deadlineMs).then(async () => {
      flush();
      await closeState();
      post({ type: 'drained', id: message.id });
    });
  }
});

post({ type: 'ready', detectors: detectorCount });
