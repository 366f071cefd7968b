import { StringDecoder } from 'node:string_decoder';

// An incremental parser for text/event-stream as the WHATWG HTML spec defines
// it (§9.2.6): fed raw chunks split anywhere — inside a CRLF pair or inside a
// multi-byte UTF-8 character — it emits one event per blank-line-terminated
// block. Memory stays bounded: a line or an event's data beyond its cap is
// dropped whole and `overflowed` is set, so a hostile stream cannot grow it.

export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

export interface SseParserOptions {
  /** Longest line kept; longer lines are dropped (default 4 MiB). */
  readonly maxLineBytes?: number;
  /** Most data one event may accumulate over its `data:` lines (default: maxLineBytes). */
  readonly maxEventBytes?: number;
}

const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;
const LF = 10;
const CR = 13;
const BOM = 0xfeff;

export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private readonly maxLineBytes: number;
  private readonly maxEventBytes: number;
  private pending = '';
  private pendingBytes = 0;
  /** The current line passed its cap: ignore everything up to the next line end. */
  private discardingLine = false;
  /** The previous chunk ended in CR: a leading LF in the next one belongs to it. */
  private skipLeadingLf = false;
  private atStreamStart = true;
  private data = '';
  private dataBytes = 0;
  private dataOverflowed = false;
  private eventType = '';
  private lastEventId = '';
  private overflow = false;

  constructor(
    private readonly onEvent: (e: SseEvent) => void,
    opts: SseParserOptions = {},
  ) {
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxEventBytes = opts.maxEventBytes ?? this.maxLineBytes;
  }

  /** True once any line or event was dropped for exceeding its cap. */
  get overflowed(): boolean {
    return this.overflow;
  }

  push(chunk: Buffer | string): void {
    this.feed(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
  }

  /** Ends the stream; an event without its terminating blank line is discarded, as the spec says. */
  end(): void {
    this.feed(this.decoder.end());
    this.pending = '';
    this.pendingBytes = 0;
    this.discardingLine = false;
    this.resetEvent();
  }

  private feed(text: string): void {
    if (text.length === 0) return;
    let start = 0;
    if (this.atStreamStart) {
      this.atStreamStart = false;
      if (text.charCodeAt(0) === BOM) start = 1;
    }
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (text.charCodeAt(start) === LF) start++;
    }
    const n = text.length;
    for (let i = start; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      this.completeLine(text, start, i);
      if (c === CR) {
        if (i + 1 < n) {
          if (text.charCodeAt(i + 1) === LF) i++;
        } else {
          this.skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    if (start < n && !this.discardingLine) {
      const tail = text.slice(start);
      this.pendingBytes += byteLength(tail);
      if (this.pendingBytes > this.maxLineBytes) this.dropLine();
      else this.pending += tail;
    }
  }

  private completeLine(text: string, from: number, to: number): void {
    if (this.discardingLine) {
      this.discardingLine = false;
      return;
    }
    const segment = text.slice(from, to);
    const bytes = this.pendingBytes + byteLength(segment);
    const line = this.pending.length > 0 ? this.pending + segment : segment;
    this.pending = '';
    this.pendingBytes = 0;
    if (bytes > this.maxLineBytes) {
      this.overflow = true;
      return;
    }
    this.processLine(line, bytes);
  }

  private dropLine(): void {
    this.pending = '';
    this.pendingBytes = 0;
    this.discardingLine = true;
    this.overflow = true;
  }

  private processLine(line: string, lineBytes: number): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon < 0) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        if (this.dataOverflowed) return;
        // A line's value is at most the line: counting the line keeps this O(1).
        this.dataBytes += lineBytes + 1;
        if (this.dataBytes > this.maxEventBytes) {
          this.data = '';
          this.dataOverflowed = true;
          this.overflow = true;
          return;
        }
        this.data += value + '\n';
        return;
      case 'event':
        this.eventType = value;
        return;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        return;
      default:
        // `retry` and unknown fields do not concern inspection.
        return;
    }
  }

  private dispatch(): void {
    const data = this.data;
    const type = this.eventType;
    const dropped = this.dataOverflowed;
    this.resetEvent();
    if (dropped || data.length === 0) return;
    const event: SseEvent = {
      event: type === '' ? 'message' : type,
      data: data.slice(0, -1),
      ...(this.lastEventId !== '' ? { id: this.lastEventId } : {}),
    };
    this.onEvent(event);
  }

  private resetEvent(): void {
    this.data = '';
    this.dataBytes = 0;
    this.dataOverflowed = false;
    this.eventType = '';
  }
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Parses a whole SSE body at once (for captured bodies). */
export function parseSse(body: Buffer | string, opts?: SseParserOptions): { events: SseEvent[]; overflowed: boolean } {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e), opts);
  parser.push(body);
  parser.end();
  return { events, overflowed: parser.overflowed };
}
