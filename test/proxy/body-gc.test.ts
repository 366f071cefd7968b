import assert from 'node:assert/strict';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { BYTES_PER_COLLECTION, createBodyGc } from '../../src/proxy/body-gc.js';
import { sleep, startUpstream } from '../helpers/servers.js';
import { startTestProxy } from './harness.js';

// Forwarded body chunks are freed only when V8 collects the objects holding
// them; the proxy asks for a minor collection after every few megabytes of
// body that saw none, so a large body cannot leave tens of MB behind it.

/** Minor collections requested through gc() (flagged forced) while `work` runs. */
async function forcedMinorCollections(work: () => Promise<void>): Promise<number> {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  try {
    await work();
    await sleep(50); // gc entries are delivered after the fact
  } finally {
    observer.disconnect();
  }
  return entries.filter((e) => {
    const detail = (e as PerformanceEntry & { detail: { kind: number; flags: number } }).detail;
    return detail.kind === constants.NODE_PERFORMANCE_GC_MINOR && (detail.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0;
  }).length;
}

test('a minor collection is requested after each BYTES_PER_COLLECTION of body', async () => {
  const bodyGc = createBodyGc();
  try {
    assert.equal(bodyGc.active, true, 'gc() should be reachable without a command-line flag');
    const forced = await forcedMinorCollections(async () => {
      for (let i = 0; i < 3 * 128; i++) bodyGc.note(BYTES_PER_COLLECTION / 128);
    });
    assert.equal(bodyGc.requested, 3);
    assert.ok(forced >= 3, `${forced} forced minor collections seen`);
  } finally {
    bodyGc.close();
  }
});

test('a collection V8 makes on its own starts the count again', async () => {
  const bodyGc = createBodyGc();
  try {
    bodyGc.note(BYTES_PER_COLLECTION - 1);
    // Small garbage fills the young generation: V8 collects on its own, and the observer hears of it.
    let keep: unknown[] = [];
    for (let i = 0; i < 2_000_000; i++) keep = [i, keep.length];
    assert.ok(keep.length > 0);
    await sleep(50);
    bodyGc.note(BYTES_PER_COLLECTION - 1);
    assert.equal(bodyGc.requested, 0);
  } finally {
    bodyGc.close();
  }
});

test('a large body passing through the proxy leads to minor collections', async () => {
  const size = 48 * 1024 * 1024;
  const upstream = await startUpstream((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const proxy = await startTestProxy(upstream.url);
  try {
    const block = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const forced = await forcedMinorCollections(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = request(`${proxy.url}/upload`, { method: 'POST', agent: false }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          new Readable({
            read() {
              if (sent >= size) return void this.push(null);
              sent += block.length;
              this.push(block);
            },
          }).pipe(req);
        }),
    );
    // 48 MB is six collections' worth; V8's own, when they happen, start the count again.
    assert.ok(forced >= 2, `${forced} forced minor collections while 48 MB passed`);
  } finally {
    await proxy.close();
    await upstream.close();
  }
});
