import type { Config } from '../config/types.js';
import { createAllDetectors } from '../detect/registry.js';
import { createFingerprinter } from '../fingerprint.js';
import { identityResolverFor } from '../identity.js';
import type { Logger } from '../log.js';
import { createStateStore } from '../state/store.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Detector } from '../types.js';
import { createInspector, type InspectorOptions, type Inspector } from './inspector.js';
import { createDetectorRunner } from './run-detectors.js';

// Inspection on the calling thread: state store, detectors and the queue,
// built from the configuration. The inspection worker runs exactly this; the
// main thread runs it in `inspection.mode: inline`.

export interface LocalInspection {
  readonly inspector: Inspector;
  readonly detectorCount: number;
  closeState(): Promise<void>;
}

export interface LocalInspectionOptions extends Pick<InspectorOptions, 'consumer' | 'maxQueue' | 'maxQueueBytes' | 'now' | 'onInspected' | 'pacer' | 'countsQueueDepth'> {
  readonly fingerprintKey: Buffer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Replace the detector set (tests, the demo's time-lapse). */
  readonly detectors?: (defaults: Detector[]) => Detector[];
}

export function createLocalInspection(config: Config, opts: LocalInspectionOptions): LocalInspection {
  const { metrics, logger } = opts;
  const fingerprint = createFingerprinter(opts.fingerprintKey);
  const store = createStateStore(config.state, { metrics, logger });
  const defaults = createAllDetectors(config, { fingerprint, store, metrics });
  const detectors = opts.detectors ? opts.detectors(defaults) : defaults;
  const inspector = createInspector({
    runner: createDetectorRunner({ detectors, budgetMs: config.inspection.budgetMs, metrics, logger }),
    consumer: opts.consumer,
    identity: identityResolverFor(config, fingerprint),
    maxDecodedBytes: config.capture.maxDecodedBytes,
    maxQueue: opts.maxQueue,
    maxQueueBytes: opts.maxQueueBytes,
    metrics,
    logger,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.onInspected ? { onInspected: opts.onInspected } : {}),
    ...(opts.pacer ? { pacer: opts.pacer } : {}),
    ...(opts.countsQueueDepth !== undefined ? { countsQueueDepth: opts.countsQueueDepth } : {}),
  });
  return { inspector, detectorCount: detectors.length, closeState: () => store.close() };
}
