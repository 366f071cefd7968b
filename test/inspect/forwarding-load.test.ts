import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchForwardingLoad } from '../../src/inspect/forwarding-load.js';
import { sleep, waitFor } from '../helpers/servers.js';

// The forwarding thread is overloaded when its event loop was busy more
// than busyAbove of a window, and calm again under calmBelow.

const busyFor = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
};

test('a loop busy through a window is overloaded; one at rest is calm again', async () => {
  const changes: Array<[boolean, number]> = [];
  const load = watchForwardingLoad({ busyAbove: 0.7, calmBelow: 0.3, windowMs: 100, onChange: (busy, u) => changes.push([busy, u]) });
  try {
    await sleep(250);
    assert.equal(load.overloaded, false, 'at rest');
    assert.deepEqual(changes, []);
    busyFor(300);
    await sleep(1); // the window's timer was due during the busy stretch and runs first
    assert.equal(load.overloaded, true);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]![0], true);
    assert.ok(changes[0]![1] > 0.7, `utilization ${changes[0]![1]}`);
    await waitFor(() => !load.overloaded, 2000, 'calm again');
    assert.equal(changes.length, 2);
    assert.ok(changes[1]![1] < 0.3);
  } finally {
    load.close();
  }
});

test('between the two thresholds the state holds', async () => {
  const changes: boolean[] = [];
  const load = watchForwardingLoad({ busyAbove: 0.9, calmBelow: 0.1, windowMs: 100, onChange: (busy) => changes.push(busy) });
  try {
    // About half of each window busy: neither above 0.9 nor below 0.1.
    for (let i = 0; i < 6; i++) {
      busyFor(50);
      await sleep(50);
    }
    assert.deepEqual(changes, []);
  } finally {
    load.close();
  }
});
