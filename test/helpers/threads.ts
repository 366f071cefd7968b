import { readdirSync, readFileSync } from 'node:fs';

// This process's threads as the kernel sees them (Linux /proc).

/**
 * A thread's niceness: field 19 of its stat line (the command name, field 2,
 * is parenthesised and may hold spaces). NaN when the thread has just ended.
 */
export function threadNiceness(tid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  } catch {
    return NaN;
  }
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** Ids of this process's threads. */
export function threadIds(): number[] {
  return readdirSync(`/proc/${process.pid}/task`).map(Number);
}
