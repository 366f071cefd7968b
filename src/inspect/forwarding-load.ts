import { performance, type EventLoopUtilization } from 'node:perf_hooks';

// How busy the forwarding thread is: the share of wall time its event loop
// spent working rather than waiting for I/O, over short windows. When the
// proxy runs at its limit, every bit of CPU the inspection worker takes
// (its own cycles, and the caches and core it shares) comes out of
// forwarding; above `busyAbove` the inspection side yields until the loop
// is back under `calmBelow`. The two thresholds apart keep it from flapping.

export interface ForwardingLoadOptions {
  readonly busyAbove: number;
  readonly calmBelow: number;
  readonly windowMs: number;
  /** Called on every change of state, with the utilization of the window that changed it. */
  readonly onChange: (overloaded: boolean, utilization: number) => void;
}

export interface ForwardingLoad {
  readonly overloaded: boolean;
  close(): void;
}

export function watchForwardingLoad(opts: ForwardingLoadOptions): ForwardingLoad {
  let overloaded = false;
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    const next = overloaded ? utilization >= opts.calmBelow : utilization > opts.busyAbove;
    if (next === overloaded) return;
    overloaded = next;
    opts.onChange(overloaded, utilization);
  }, opts.windowMs);
  timer.unref();
  return {
    get overloaded() {
      return overloaded;
    },
    close: () => clearInterval(timer),
  };
}
