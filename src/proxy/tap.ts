// A bounded capture of a body for inspection. The forwarded stream is never
// touched: the tap keeps the chunks it sees until its cap, then counts the
// rest. It keeps them without copying: Node gives each body chunk memory of
// its own, which nothing on the forwarding path writes to, so a copy would
// only cost an allocation per chunk on every request (and a second copy when
// the capture is posted to the inspection worker).

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
    const piece = chunk.length <= room ? chunk : chunk.subarray(0, room);
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
