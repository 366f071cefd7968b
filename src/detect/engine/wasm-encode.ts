// Just enough of the WebAssembly binary format to write gatewatch's scanning
// kernels by hand (counting-walk.ts, collapse.ts, rule-hits.ts): i32
// functions over one imported memory. A module is a few kilobytes, written
// out at load, so there is no toolchain to trust and no binary in the
// repository.
//
// Code is a tree: each instruction holds its operands' code as it is, and
// the tree is flattened once, at the end. (Spreading operands into each
// instruction copied the code at every level: megabytes of garbage, and a
// heap that stays that much bigger, for a module of kilobytes.)

/**
 * Bytes, code nested as it is, the marks from which branches get their label
 * depth, and local accesses (from which a function's count of locals comes).
 */
type Piece =
  | number
  | Code
  | { readonly enter: string }
  | { readonly exit: true }
  | { readonly branch: number; readonly to: string }
  | { readonly access: number; readonly local: number };
export type Code = readonly Piece[];

/** Unsigned LEB128. */
function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function s32(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function vec(items: readonly (readonly number[])[]): number[] {
  return [...u32(items.length), ...items.flat()];
}

function name(s: string): number[] {
  return [...u32(s.length), ...Buffer.from(s, 'utf8')];
}

function section(id: number, body: readonly number[]): number[] {
  return [id, ...u32(body.length), ...body];
}

const I32 = 0x7f;
const EMPTY_BLOCK = 0x40;
const EXIT: Piece = { exit: true };

/** An instruction over two operands, evaluated in order. */
function binary(opcode: number): (a: Code, b: Code) => Code {
  return (a, b) => [a, b, opcode];
}

/**
 * The instructions used, as byte sequences. Blocks and loops are named;
 * `br`/`brIf` name the one they leave (a block) or go back to (a loop).
 */
export const op = {
  block: (label: string, ...body: Code[]): Code => [0x02, EMPTY_BLOCK, { enter: label }, body, EXIT, 0x0b],
  loop: (label: string, ...body: Code[]): Code => [0x03, EMPTY_BLOCK, { enter: label }, body, EXIT, 0x0b],
  /** `cond` is evaluated first; then one of the branches. */
  if: (cond: Code, then: Code, otherwise?: Code): Code => [cond, 0x04, EMPTY_BLOCK, { enter: '' }, then, otherwise ? [0x05, otherwise] : [], EXIT, 0x0b],
  br: (label: string): Code => [{ branch: 0x0c, to: label }],
  return: (): Code => [0x0f],
  brIf: (cond: Code, label: string): Code => [cond, { branch: 0x0d, to: label }],
  /** Calls the module's function `index` with the arguments in order. */
  call: (index: number, ...args: Code[]): Code => [args, 0x10, u32(index)],
  get: (local: number): Code => [{ access: 0x20, local }],
  set: (local: number, value: Code): Code => [value, { access: 0x21, local }],
  /** Adds `by` to a local. */
  inc: (local: number, by = 1): Code => [{ access: 0x20, local }, 0x41, s32(by), 0x6a, { access: 0x21, local }],
  const: (n: number): Code => [0x41, s32(n)],
  /** 32-bit load at `address` + `offset`. */
  load: (address: Code, offset = 0): Code => [address, 0x28, 2, u32(offset)],
  /** Unsigned 8- and 16-bit loads at `address` + `offset`. */
  load8: (address: Code, offset = 0): Code => [address, 0x2d, 0, u32(offset)],
  load16: (address: Code, offset = 0): Code => [address, 0x2f, 1, u32(offset)],
  store: (address: Code, value: Code, offset = 0): Code => [address, value, 0x36, 2, u32(offset)],
  store8: (address: Code, value: Code, offset = 0): Code => [address, value, 0x3a, 0, u32(offset)],
  store16: (address: Code, value: Code, offset = 0): Code => [address, value, 0x3b, 1, u32(offset)],
  add: binary(0x6a),
  sub: binary(0x6b),
  mul: binary(0x6c),
  and: binary(0x71),
  or: binary(0x72),
  xor: binary(0x73),
  shl: binary(0x74),
  shrS: binary(0x75),
  shrU: binary(0x76),
  eqz: (a: Code): Code => [a, 0x45],
  eq: binary(0x46),
  ne: binary(0x47),
  ltS: binary(0x48),
  ltU: binary(0x49),
  gtS: binary(0x4a),
  leS: binary(0x4c),
  geS: binary(0x4e),
  geU: binary(0x4f),
};

/**
 * The bytes of `code`, with each branch's label turned into its depth, and
 * the number of locals it uses (the highest index plus one).
 */
function resolve(code: Code, where: string): { bytes: number[]; locals: number } {
  const out: number[] = [];
  const labels: string[] = [];
  let locals = 0;
  const walk = (pieces: Code): void => {
    for (const piece of pieces) {
      if (typeof piece === 'number') out.push(piece);
      else if (Array.isArray(piece)) walk(piece as Code);
      else if ('enter' in piece) labels.push(piece.enter);
      else if ('exit' in piece) labels.pop();
      else if ('branch' in piece) {
        const at = labels.lastIndexOf(piece.to);
        if (piece.to === '' || at < 0) throw new Error(`${where}: no enclosing block or loop named ${JSON.stringify(piece.to)}`);
        out.push(piece.branch, ...u32(labels.length - 1 - at));
      } else if ('access' in piece) {
        out.push(piece.access, ...u32(piece.local));
        locals = Math.max(locals, piece.local + 1);
      }
    }
  };
  walk(code);
  return { bytes: out, locals };
}

export interface WasmFunction {
  readonly name: string;
  readonly params: number;
  /** Locals past the parameters (all i32) are as many as the body uses. */
  readonly body: Code;
}

/** A module of i32 functions with no result, exported by name, over the memory it imports as env.memory. */
export function encodeModule(functions: readonly WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(Array.from({ length: f.params }, () => [I32])), 0]);
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, 1];
  const bodies = functions.map((f) => {
    const { bytes, locals } = resolve(f.body, f.name);
    const declared = locals - f.params;
    const body = [...(declared > 0 ? vec([[...u32(declared), I32]]) : u32(0)), ...bytes, 0x0b];
    return [...u32(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([memoryImport])),
    ...section(3, vec(functions.map((_, i) => u32(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...u32(i)]))),
    ...section(10, vec(bodies)),
  ]);
}
