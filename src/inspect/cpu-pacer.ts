import { performance } from 'node:perf_hooks';

// Keeps inspection to a share of one core. Work done is a debt paid back at
// `share` of wall time: after a burst the inspector sleeps until it is even.
// Under overload the queue then fills and new exchanges are dropped and
// counted, instead of inspection taking the CPU that forwarding needs.

export interface CpuPacer {
  /** Wraps one unit of work; resolves when the pace allows the next. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** A new share from now on (1 = no limit); a wait already begun keeps its length. */
  setShare(share: number): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createCpuPacer(initialShare: number): CpuPacer {
  let share = initialShare;
  let debtMs = 0;
  let last = performance.now();
  return {
    setShare(next) {
      share = next;
    },
    async run(work) {
      if (share >= 1) return work();
      const started = performance.now();
      debtMs = Math.max(0, debtMs - (started - last) * share);
      const result = await work();
      const ended = performance.now();
      debtMs += ended - started;
      last = ended;
      // Allow short bursts (50 ms of work) before pacing.
      if (debtMs > 50) {
        const wait = (debtMs - 50) / share;
        await sleep(wait);
        debtMs = Math.max(0, debtMs - (performance.now() - ended) * share);
        last = performance.now();
      }
      return result;
    },
  };
}
