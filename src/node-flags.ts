// Node flags and environment that `gatewatch run` is shipped with: the
// container image's entrypoint and `npm start` pass them (a test checks
// both), and the benchmarks start gatewatch with them.
//
// A smaller young generation for the proxy thread. Starting up (config,
// schemas, the OpenTelemetry SDK) grows V8's default 16 MB semi-spaces and
// leaves them full: the sidecar then sits about 20 MB bigger at rest (140
// instead of 120 MB, bench/RESULTS.md). Large bodies no longer depend on it:
// the proxy requests minor collections as they stream (src/proxy/body-gc.ts).
// The inspection worker sets its own young generation (worker-inspector.ts).
export const RUN_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

// Two malloc arenas instead of glibc's default of eight per core. The
// inspection worker, V8's compiler threads and libuv's threads each take an
// arena of their own and keep what they free; with the WebAssembly kernels'
// compilation on top, that left the sidecar 6-7 MB bigger at rest, and the
// peak while a 100 MB body passes at 152-156 MB instead of 145-148 MB
// (bench/RESULTS.md).
export const RUN_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
