// Node flags that `gatewatch run` is shipped with: the container image's
// entrypoint and `npm start` pass them (a test checks both), and the
// benchmarks start gatewatch with them.
//
// A smaller young generation for the proxy thread. Bodies stream through as
// 64 KB buffers that are freed only when the small objects holding them are
// collected; V8's default 16 MB semi-spaces fill slowly with those, so
// buffers pile up between collections. With 4 MB semi-spaces the resident
// memory while a 100 MB body passes peaks at 146 MB instead of 153-158 MB,
// for about 1.5 points of 4 KB throughput (bench/RESULTS.md). The inspection
// worker sets its own young generation (worker-inspector.ts).
export const RUN_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
