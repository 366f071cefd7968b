import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

// Lowers the scheduling priority of the calling thread, not the process:
// on Linux setpriority() on a thread id touches that thread only, and
// /proc/thread-self names it. The niceness is added to the thread's current
// one, since raising it needs no privilege and lowering it would.

export type PriorityResult = { readonly applied: true; readonly tid: number; readonly niceness: number } | { readonly applied: false; readonly reason: string };

export function niceCurrentThread(added: number): PriorityResult {
  if (added === 0) return { applied: false, reason: 'niceness 0' };
  if (process.platform !== 'linux') return { applied: false, reason: `per-thread priority is Linux only (this is ${process.platform})` };
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch (e) {
    return { applied: false, reason: `/proc/thread-self unreadable: ${(e as Error).message}` };
  }
  if (!Number.isInteger(tid) || tid <= 0) return { applied: false, reason: 'no thread id in /proc/thread-self' };
  try {
    const niceness = Math.min(19, getPriority(tid) + added);
    setPriority(tid, niceness);
    return { applied: true, tid, niceness };
  } catch (e) {
    return { applied: false, reason: (e as Error).message };
  }
}
