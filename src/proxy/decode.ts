import type { Transform } from 'node:stream';
import { constants, createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';

// Decodes a captured (possibly truncated) body for inspection, stopping at an
// output limit so a decompression bomb costs at most `limit` bytes.

export interface Decoded {
  readonly body: Buffer;
  /** True when the output limit stopped decoding or the input was cut or corrupt. */
  readonly partial: boolean;
  readonly reason?: 'decode_limit' | 'decode_error';
}

function decoderFor(encoding: string): (() => Transform) | undefined {
  const flush = { finishFlush: constants.Z_SYNC_FLUSH };
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return () => createGunzip(flush);
    case 'deflate':
      return () => createInflate(flush);
    case 'deflate-raw':
      return () => createInflateRaw(flush);
    case 'br':
      return () => createBrotliDecompress({ finishFlush: constants.BROTLI_OPERATION_FLUSH });
    default:
      return undefined;
  }
}

export function contentEncodings(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const value = Array.isArray(header) ? header.join(',') : header;
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
}

export async function decodeBody(body: Buffer, encodingHeader: string | string[] | undefined, limit: number): Promise<Decoded> {
  const encodings = contentEncodings(encodingHeader);
  let current = body;
  let partial = false;
  let reason: Decoded['reason'];
  // Encodings are listed in the order they were applied: undo them in reverse.
  for (let i = encodings.length - 1; i >= 0; i--) {
    const make = decoderFor(encodings[i]!);
    if (!make) return { body: current, partial: true, reason: 'decode_error' };
    const step = await inflateLimited(make(), current, limit);
    current = step.body;
    if (step.partial) {
      partial = true;
      reason = step.reason;
      break;
    }
  }
  return reason ? { body: current, partial, reason } : { body: current, partial };
}

function inflateLimited(decoder: Transform, input: Buffer, limit: number): Promise<Decoded> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (partial: boolean, reason?: Decoded['reason']) => {
      if (settled) return;
      settled = true;
      decoder.removeAllListeners('data');
      decoder.destroy();
      const body = Buffer.concat(out, size);
      resolve(reason ? { body, partial, reason } : { body, partial });
    };
    decoder.on('data', (chunk: Buffer) => {
      const room = limit - size;
      if (chunk.length >= room) {
        if (room > 0) {
          out.push(chunk.subarray(0, room));
          size += room;
        }
        finish(true, 'decode_limit');
        return;
      }
      out.push(chunk);
      size += chunk.length;
    });
    decoder.on('error', () => finish(true, 'decode_error'));
    decoder.on('end', () => finish(false));
    decoder.end(input);
  });
}
