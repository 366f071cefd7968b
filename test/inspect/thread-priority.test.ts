import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { validateConfig } from '../../src/config/load.js';
import { niceCurrentThread } from '../../src/inspect/thread-priority.js';
import { createWorkerInspector } from '../../src/inspect/worker-inspector.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { threadIds, threadNiceness } from '../helpers/threads.js';

const linux = process.platform === 'linux';

const baseNiceness = linux ? threadNiceness(process.pid) : 0;

test('a worker thread lowers its own priority and leaves the proxy thread alone', { skip: (!linux && 'per-thread priority is Linux only') || (baseNiceness > 12 && 'this process already runs at niceness > 12') }, async () => {
  const moduleUrl = new URL('../../src/inspect/thread-priority.js', import.meta.url).href;
  const worker = new Worker(
    // Stays alive (the interval) until terminated, so its /proc entry can be read.
    `setInterval(() => {}, 1000); import(${JSON.stringify(moduleUrl)}).then(({ niceCurrentThread }) => require('node:worker_threads').parentPort.postMessage(niceCurrentThread(7)));`,
    { eval: true },
  );
  const result = await new Promise<ReturnType<typeof niceCurrentThread>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  try {
    assert.equal(result.applied, true, JSON.stringify(result));
    if (!result.applied) return;
    assert.notEqual(result.tid, process.pid);
    assert.equal(result.niceness, baseNiceness + 7);
    assert.equal(threadNiceness(result.tid), baseNiceness + 7);
    assert.equal(threadNiceness(process.pid), baseNiceness, 'the main thread keeps its priority');
  } finally {
    await worker.terminate();
  }
});

test('niceness 0 changes nothing', () => {
  assert.deepEqual(niceCurrentThread(0), { applied: false, reason: 'niceness 0' });
});

test('the inspection worker runs at the configured niceness', { skip: (!linux && 'per-thread priority is Linux only') || (baseNiceness > 14 && 'this process already runs at niceness > 14') }, async () => {
  const before = new Set(threadIds());
  const inspector = createWorkerInspector({
    config: validateConfig({ inspection: { niceness: 5 } }),
    fingerprintKey: Buffer.from('thread-priority-test'),
    consumer: { submit() {} },
    metrics: createMetrics(),
    logger: createLogger({ level: 'silent' }),
  });
  try {
    await inspector.ready;
    const niced = threadIds().filter((tid) => !before.has(tid) && threadNiceness(tid) === baseNiceness + 5);
    assert.equal(niced.length, 1, 'exactly one new thread, the worker, at the configured niceness');
    assert.equal(threadNiceness(process.pid), baseNiceness);
  } finally {
    await inspector.close?.();
  }
});
