// The part of the WebAssembly JavaScript API that gatewatch's kernels use
// (engine/counting-walk.ts, exfiltration/collapse.ts and rule-hits.ts). Node
// has it as a global; TypeScript declares it only in the DOM library, which
// this project does not load.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
