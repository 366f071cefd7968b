import * as zlib from 'node:zlib';

// AWS event-stream framing (application/vnd.amazon.eventstream), used by
// Bedrock's invoke-with-response-stream and converse-stream. Each message:
//   total length u32 | headers length u32 | prelude CRC32 u32 | headers | payload | message CRC32 u32
// Parsing stops at the first frame that is incomplete or fails its checks;
// `consumed` tells the caller where the well-formed part ends.

export interface EventStreamMessage {
  /** String-valued headers (`:event-type`, `:message-type`, `:content-type`…); other types are skipped. */
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Buffer;
}

const PRELUDE = 12;
const MIN_MESSAGE = PRELUDE + 4;

// zlib.crc32 arrived in Node 20.15; on older runtimes frames are checked by their lengths only.
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** Bytes a header value of each type takes after its type byte; -1 for length-prefixed values. */
const VALUE_SIZES: Readonly<Record<number, number>> = { 0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 6: -1, 7: -1, 8: 8, 9: 16 };

function parseHeaders(buf: Buffer): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  let off = 0;
  while (off < buf.length) {
    const nameLen = buf[off] ?? 0;
    const name = buf.toString('utf8', off + 1, off + 1 + nameLen);
    off += 1 + nameLen;
    if (off >= buf.length) return undefined;
    const type = buf[off] ?? 255;
    off += 1;
    const size = VALUE_SIZES[type];
    if (size === undefined) return undefined;
    if (size >= 0) {
      off += size;
      continue;
    }
    if (off + 2 > buf.length) return undefined;
    const len = buf.readUInt16BE(off);
    off += 2;
    if (off + len > buf.length) return undefined;
    if (type === 7) headers[name] = buf.toString('utf8', off, off + len);
    off += len;
  }
  return off === buf.length ? headers : undefined;
}

export function parseEventStream(buf: Buffer): { messages: EventStreamMessage[]; consumed: number } {
  const messages: EventStreamMessage[] = [];
  let off = 0;
  while (off + MIN_MESSAGE <= buf.length) {
    const total = buf.readUInt32BE(off);
    const headersLen = buf.readUInt32BE(off + 4);
    if (total < MIN_MESSAGE || headersLen > total - MIN_MESSAGE || off + total > buf.length) break;
    if (crc32) {
      if (crc32(buf.subarray(off, off + 8)) !== buf.readUInt32BE(off + 8)) break;
      if (crc32(buf.subarray(off, off + total - 4)) !== buf.readUInt32BE(off + total - 4)) break;
    }
    const headers = parseHeaders(buf.subarray(off + PRELUDE, off + PRELUDE + headersLen));
    if (!headers) break;
    messages.push({ headers, payload: buf.subarray(off + PRELUDE + headersLen, off + total - 4) });
    off += total;
  }
  return { messages, consumed: off };
}

/** Builds one frame (tests and the demo upstream); string headers only. */
export function encodeEventStreamMessage(headers: Readonly<Record<string, string>>, payload: Buffer | string): Buffer {
  const headerBufs: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const h = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(7, 1 + n.length);
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    headerBufs.push(h);
  }
  const headerBuf = Buffer.concat(headerBufs);
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const total = PRELUDE + headerBuf.length + body.length + 4;
  const msg = Buffer.alloc(total);
  msg.writeUInt32BE(total, 0);
  msg.writeUInt32BE(headerBuf.length, 4);
  msg.writeUInt32BE(crc32 ? crc32(msg.subarray(0, 8)) : 0, 8);
  headerBuf.copy(msg, PRELUDE);
  body.copy(msg, PRELUDE + headerBuf.length);
  msg.writeUInt32BE(crc32 ? crc32(msg.subarray(0, total - 4)) : 0, total - 4);
  return msg;
}
