import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import type { CapturedExchange } from '../../src/inspect/captured.js';
import { createLocalInspection } from '../../src/inspect/local.js';
import { createWorkerInspector } from '../../src/inspect/worker-inspector.js';
import { silentLogger } from '../../src/log.js';
import type { Route } from '../../src/proxy/routes.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { sleep } from '../helpers/servers.js';

// A full inspection queue drops exchanges: traffic never waits for
// inspection. Each drop is counted by reason, and the exchange still counts
// as a request of its route and status, its provider unknown.

const route = (name: string): Route => ({ name, prefix: '/', target: new URL('http://127.0.0.1:9'), stripPrefix: false, direction: 'ingress', preserveHost: true });

function captured(id: string, r: Route, status: number): CapturedExchange {
  return {
    id,
    kind: 'http',
    route: r,
    method: 'POST',
    url: '/v1/chat/completions',
    requestHeaders: { 'content-type': 'application/json' },
    responseHeaders: { 'content-type': 'application/json' },
    status,
    remoteAddress: '127.0.0.1',
    requestBody: Buffer.from('{"model":"gpt-4o","messages":[]}'),
    requestTruncated: false,
    responseBody: Buffer.from('{"choices":[]}'),
    responseTruncated: false,
    wsMessages: [],
    timings: { start: 0, end: 1 },
  };
}

/** The drops counted so far, as [attributes, count]. */
const drops = (metrics: Metrics) => metrics.inspectionDropped.series().map((s) => [s.attributes, s.state]);

/** The uninspected requests counted so far, as [route, status, count]. */
const uninspected = (metrics: Metrics) =>
  metrics.requests
    .series()
    .filter((s) => s.attributes.provider === 'uninspected')
    .map((s) => [s.attributes.route, s.attributes.status, s.state]);

/** gatewatch_inspection_queue_depth as it stands. */
const queueDepth = (metrics: Metrics) => metrics.inspectionQueueDepth.series().reduce((sum, s) => sum + s.state, 0);

/** The real worker inspector with these inspection settings. */
const workerInspector = (metrics: Metrics, inspection: Record<string, unknown>) =>
  createWorkerInspector({ config: validateConfig({ inspection }), fingerprintKey: Buffer.from('test-key'), consumer: { submit() {} }, metrics, logger: silentLogger() });

/** Local inspection whose one detector records each exchange and then waits until release(). */
function blockedInspection(metrics: Metrics, maxQueue: number) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const seen: string[] = [];
  const local = createLocalInspection(validateConfig({}), {
    fingerprintKey: Buffer.from('test-key'),
    consumer: { submit() {} },
    maxQueue,
    maxQueueBytes: 1 << 20,
    metrics,
    logger: silentLogger(),
    detectors: () => [
      {
        id: 'test.blocking',
        category: 'anomaly',
        async detect(exchange) {
          seen.push(exchange.id);
          await gate;
          return [];
        },
      },
    ],
  });
  return { ...local, seen, release };
}

test('a full queue drops exchanges and counts each one by route and status', async () => {
  const metrics = createMetrics();
  const { inspector, closeState, seen, release } = blockedInspection(metrics, 2);
  const chat = route('chat');
  const embed = route('embed');
  try {
    // Submitted together: two wait in the queue, the other three find it full.
    inspector.submit(captured('a', chat, 200));
    inspector.submit(captured('b', chat, 200));
    inspector.submit(captured('c', chat, 200));
    inspector.submit(captured('d', embed, 500));
    inspector.submit(captured('e', chat, 200));
    assert.deepEqual(drops(metrics), [[{ reason: 'queue_full' }, 3]]);
    assert.deepEqual(uninspected(metrics), [
      ['chat', '200', 2],
      ['embed', '500', 1],
    ]);
    release();
    await inspector.drain(2000);
    assert.deepEqual(seen, ['a', 'b'], 'the queued exchanges are inspected, in order');
  } finally {
    release();
    await closeState();
    await metrics.shutdown();
  }
});

test('the worker inspector drops what exceeds its in-flight bound and counts it the same way', async () => {
  const metrics = createMetrics();
  const inspector = workerInspector(metrics, { maxQueue: 2 });
  const chat = route('chat');
  const embed = route('embed');
  try {
    await inspector.ready;
    // Nothing is done before the worker answers: two are in flight, three dropped.
    inspector.submit(captured('a', chat, 200));
    inspector.submit(captured('b', chat, 200));
    inspector.submit(captured('c', embed, 502));
    inspector.submit(captured('d', chat, 200));
    inspector.submit(captured('e', embed, 502));
    assert.deepEqual(drops(metrics), [[{ reason: 'queue_full' }, 3]]);
    assert.deepEqual(uninspected(metrics), [
      ['embed', '502', 2],
      ['chat', '200', 1],
    ]);
    await inspector.drain(5000);
    assert.equal(inspector.pending, 0, 'the two in flight were inspected');
  } finally {
    await inspector.close?.();
    await metrics.shutdown();
  }
});

test('an exchange refused while the queue was full counts as queue_full, even if the queue has room when it finishes', async () => {
  const metrics = createMetrics();
  const inspector = workerInspector(metrics, { maxQueue: 2 });
  const chat = route('chat');
  try {
    await inspector.ready;
    inspector.submit(captured('a', chat, 200));
    inspector.submit(captured('b', chat, 200));
    assert.equal(inspector.admits?.(), false, 'two in flight: the next exchange is refused');
    assert.deepEqual(drops(metrics), [[{ reason: 'queue_full' }, 1]]);
    assert.deepEqual(uninspected(metrics), [], 'its request is counted when it finishes');
    await inspector.drain(5000);
    assert.equal(inspector.pending, 0);
    // It finishes after the worker caught up (overload is off: nothing may be counted as overload).
    inspector.skipped?.({ route: chat, status: 200 });
    assert.deepEqual(drops(metrics), [[{ reason: 'queue_full' }, 1]]);
    assert.deepEqual(uninspected(metrics), [['chat', '200', 1]]);
  } finally {
    await inspector.close?.();
    await metrics.shutdown();
  }
});

test('while forwarding is busy, inspection yields: a shorter queue, and drops counted as overload', async () => {
  const metrics = createMetrics();
  const inspector = workerInspector(metrics, { maxQueue: 100, overload: { enabled: true, busyAbove: 0.6, calmBelow: 0.3, windowMs: 100, maxQueue: 2 } });
  const chat = route('chat');
  const submitFive = (prefix: string) => {
    for (let i = 0; i < 5; i++) inspector.submit(captured(`${prefix}${i}`, chat, 200));
  };
  try {
    await inspector.ready;
    await sleep(250);
    submitFive('calm-');
    assert.deepEqual(drops(metrics), [], 'at rest all five are taken');
    await inspector.drain(5000);

    // The forwarding thread works without a pause through more than a window.
    const until = Date.now() + 300;
    while (Date.now() < until);
    await sleep(1); // the window's timer was due during the busy stretch and runs first
    submitFive('busy-');
    assert.deepEqual(drops(metrics), [[{ reason: 'overload' }, 3]]);
    assert.deepEqual(uninspected(metrics), [['chat', '200', 3]]);
    // The proxy asks before capturing: with two in flight the answer is no, and the skip is counted the same way.
    assert.equal(inspector.admits?.(), false);
    inspector.skipped?.({ route: chat, status: 200 });
    assert.deepEqual(drops(metrics), [[{ reason: 'overload' }, 4]]);
    assert.deepEqual(uninspected(metrics), [['chat', '200', 4]]);
    await inspector.drain(5000);

    await sleep(400); // windows at rest: calm again
    assert.equal(inspector.admits?.(), true);
    submitFive('later-');
    assert.deepEqual(drops(metrics), [[{ reason: 'overload' }, 4]], 'no new drops once calm');
    await inspector.drain(5000);
  } finally {
    await inspector.close?.();
    await metrics.shutdown();
  }
});

test('shedding keeps the first exchanges waiting and drops the rest, counted as overload', async () => {
  const metrics = createMetrics();
  const { inspector, closeState, seen, release } = blockedInspection(metrics, 10);
  const chat = route('chat');
  try {
    for (const id of ['a', 'b', 'c', 'd', 'e']) inspector.submit(captured(id, chat, 200));
    while (seen.length === 0) await sleep(1);
    // 'a' is being inspected; four wait, of which one is kept.
    assert.equal(inspector.shed?.(1), 3);
    assert.equal(inspector.pending, 1);
    assert.equal(inspector.shed?.(1), 0, 'nothing beyond the kept one');
    assert.deepEqual(drops(metrics), [[{ reason: 'overload' }, 3]]);
    assert.deepEqual(uninspected(metrics), [['chat', '200', 3]]);
    release();
    await inspector.drain(5000);
    assert.deepEqual(seen, ['a', 'b']);
  } finally {
    release();
    await closeState();
    await metrics.shutdown();
  }
});

test('the queue depth counts an exchange from its capture until it is inspected or shed', async () => {
  const metrics = createMetrics();
  const { inspector, closeState, seen, release } = blockedInspection(metrics, 10);
  const chat = route('chat');
  try {
    assert.equal(queueDepth(metrics), 0);
    for (const id of ['a', 'b', 'c', 'd']) inspector.submit(captured(id, chat, 200));
    assert.equal(queueDepth(metrics), 4);
    while (seen.length === 0) await sleep(1);
    assert.equal(queueDepth(metrics), 4, "'a' is being inspected: it still counts");
    assert.equal(inspector.shed?.(1), 2);
    assert.equal(queueDepth(metrics), 2, "'a' in inspection and 'b' waiting");
    release();
    await inspector.drain(5000);
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(queueDepth(metrics), 0);
  } finally {
    release();
    await closeState();
    await metrics.shutdown();
  }
});

test('the worker inspector counts the queue depth on the proxy side, once, until the worker reports the exchanges done', async () => {
  const metrics = createMetrics();
  const inspector = workerInspector(metrics, { maxQueue: 1000, maxCpuShare: 1 });
  const chat = route('chat');
  try {
    await inspector.ready;
    for (let i = 0; i < 400; i++) inspector.submit(captured(`x${i}`, chat, 200));
    assert.equal(queueDepth(metrics), 400, 'counted as posted');
    // The worker reports what it has done, and ships its own metrics, every 100 ms: were it to count
    // its queue too, the depth would rise above what was posted while it works through them.
    let highest = 0;
    const drained = inspector.drain(10_000);
    let done = false;
    void drained.then(() => (done = true));
    while (!done) {
      highest = Math.max(highest, queueDepth(metrics));
      await sleep(2);
    }
    assert.equal(inspector.pending, 0);
    assert.equal(highest, 400);
    assert.equal(queueDepth(metrics), 0);
  } finally {
    await inspector.close?.();
    await metrics.shutdown();
  }
});
