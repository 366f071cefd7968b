// Node flags that `gatewatch run` is shipped with: the container image's
// entrypoint and `npm start` pass them (a test checks both), and the
// benchmarks start gatewatch with them.
//
// A smaller young generation for the proxy thread: bodies stream through as
// 64 KB buffers that are freed only when the small objects holding them are
// collected, and with V8's default 16 MB semi-spaces that happens so rarely
// that a 100 MB body lifts resident memory by 35 MB; with 4 MB, by 33% less
// (bench/RESULTS.md). The inspection worker sets its own (worker-inspector.ts).
export const RUN_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
