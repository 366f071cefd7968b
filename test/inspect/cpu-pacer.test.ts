import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCpuPacer } from '../../src/inspect/cpu-pacer.js';

// The pacer keeps inspection to a share of a core: past a 50 ms burst, work
// is paid back by waiting. The forwarding thread lowers that share while it
// is busy (inspection.overload), so the share can change between two runs.

/** 80 ms of work without a pause. */
const burst = async () => {
  const until = performance.now() + 80;
  while (performance.now() < until);
};

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

test('past its burst, work is paid back at the share', async () => {
  const pacer = createCpuPacer(0.1);
  // 80 ms of work is 30 ms beyond the burst: 300 ms of waiting at a tenth of a core.
  const ms = await timed(() => pacer.run(burst));
  assert.ok(ms >= 80 + 250, `took ${ms} ms`);
});

test('a share of 1 never waits, and a lower share set later paces the next run', async () => {
  const pacer = createCpuPacer(1);
  const free = await timed(() => pacer.run(burst));
  assert.ok(free < 80 + 150, `unpaced run took ${free} ms`);
  pacer.setShare(0.1);
  const paced = await timed(() => pacer.run(burst));
  assert.ok(paced >= 80 + 250, `paced run took ${paced} ms`);
  pacer.setShare(1);
  const freeAgain = await timed(() => pacer.run(burst));
  assert.ok(freeAgain < 80 + 150, `run after the share went back to 1 took ${freeAgain} ms`);
});
