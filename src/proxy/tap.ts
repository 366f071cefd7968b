// A bounded copy of a body for inspection. The forwarded stream is never
// touched: the tap only copies chunks until its cap, then counts the rest.

export class CaptureBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte seen, kept or not. */
  total = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    // Copy: the forwarding side may reuse or release the chunk's memory.
    const piece = chunk.length <= room ? Buffer.from(chunk) : Buffer.from(chunk.subarray(0, room));
    this.chunks.push(piece);
    this.kept += piece.length;
  }

  get size(): number {
    return this.kept;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  /** The captured bytes; the buffer is emptied so its memory can go. */
  take(): Buffer {
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
    this.chunks = [];
    return out;
  }
}
