import type { SecretMatch, SecretScanner } from './scanner.js';

// Scans text that arrives in pieces (SSE deltas, WebSocket messages) so that
// a secret split across pieces is still found. Each push rescans a bounded
// tail of earlier text plus the new piece; a match is reported once, when it
// can no longer grow (it ends before the buffer does, or the stream ended).
// Offsets in the returned matches count from the start of the stream.

export class StreamScanner {
  private buffer = '';
  /** Stream offset of buffer[0]. */
  private base = 0;
  /** Matches ending before this stream offset were already reported. */
  private reportedUpTo = 0;

  constructor(
    private readonly scanner: SecretScanner,
    /** Characters of earlier text kept for the next push: bounds memory and the longest secret found across pieces. */
    private readonly carry: number = scanner.maxSpan,
  ) {}

  push(piece: string): SecretMatch[] {
    this.buffer += piece;
    const found = this.collect(false);
    const drop = Math.max(0, this.buffer.length - this.carry);
    if (drop > 0) {
      this.buffer = this.buffer.slice(drop);
      this.base += drop;
    }
    return found;
  }

  /** The stream is over: report what was held back because it touched the end. */
  end(): SecretMatch[] {
    const found = this.collect(true);
    this.buffer = '';
    return found;
  }

  private collect(final: boolean): SecretMatch[] {
    const bufferEnd = this.base + this.buffer.length;
    const out: SecretMatch[] = [];
    for (const m of this.scanner.scan(this.buffer)) {
      const matchEnd = this.base + m.matchEnd;
      if (matchEnd < this.reportedUpTo) continue;
      if (!final && matchEnd === bufferEnd) continue;
      out.push({ ...m, start: this.base + m.start, end: this.base + m.end, matchEnd });
    }
    this.reportedUpTo = final ? bufferEnd + 1 : bufferEnd;
    return out;
  }
}
