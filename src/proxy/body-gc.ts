import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Keeps large bodies from piling up in memory after they have been forwarded.
// Each body chunk is a 64 KB buffer freed only when V8 collects the small
// object holding it, and V8 collects young objects when its young generation
// fills: a streaming body allocates little JavaScript per chunk, so 100 MB
// went through before a collection and 30 MB of forwarded chunks were still
// resident (bench/RESULTS.md). A minor collection every few megabytes of
// body without any collection bounds that, whatever the young generation's
// size; ordinary traffic fills the young generation long before, and each
// collection V8 makes on its own starts the count again.

/** Body bytes between two requested minor collections. */
export const BYTES_PER_COLLECTION = 8 * 1024 * 1024;

type Gc = (options: { type: 'minor' }) => void;

function exposeGc(): Gc | undefined {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (typeof existing === 'function') return existing;
  try {
    // No command-line flag needed: V8 installs gc() in every context created
    // after --expose-gc is set, and a new vm context is one.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as Gc) : undefined;
  } catch {
    return undefined;
  }
}

export interface BodyGc {
  /** Counts forwarded body bytes; requests a minor collection after BYTES_PER_COLLECTION without one. */
  note(bytes: number): void;
  /** Collections requested so far. */
  readonly requested: number;
  close(): void;
  /** False where V8's gc() could not be reached: bodies are then collected on V8's own schedule. */
  readonly active: boolean;
}

export function createBodyGc(bytesPerCollection = BYTES_PER_COLLECTION): BodyGc {
  const gc = exposeGc();
  if (gc === undefined) return { note: () => undefined, active: false, requested: 0, close: () => undefined };
  let since = 0;
  let requested = 0;
  const collections = new PerformanceObserver(() => {
    since = 0;
  });
  collections.observe({ entryTypes: ['gc'] });
  return {
    active: true,
    get requested() {
      return requested;
    },
    note(bytes) {
      since += bytes;
      if (since < bytesPerCollection) return;
      since = 0;
      requested++;
      gc({ type: 'minor' });
    },
    close: () => collections.disconnect(),
  };
}
