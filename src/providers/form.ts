import { MAX_PARTS } from './builder.js';
import { pathKey } from './json.js';

// Request bodies that are forms rather than JSON: multipart/form-data (audio
// transcriptions, image edits, file uploads) and urlencoded forms. Text fields
// and text-like files (JSONL fine-tuning data) are inspected; binary files
// (audio, images, PDFs) are skipped, as are other binary bodies.

export interface FormField {
  readonly path: string;
  readonly text: string;
}

const TEXTUAL = /^(?:text\/|application\/(?:json|jsonl|x-ndjson|x-jsonlines|xml|x-yaml|yaml|csv|x-www-form-urlencoded)\b)/i;

export function isTextualType(contentType: string): boolean {
  return TEXTUAL.test(contentType.trim());
}

function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

function param(header: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(header);
  return m?.[1] ?? m?.[2];
}

/** Text fields of a multipart/form-data body, with paths like `request.body.prompt`. */
export function readMultipart(body: Buffer, contentType: string, base: string): FormField[] {
  const boundary = boundaryOf(contentType);
  if (!boundary) return [];
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: FormField[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0 && fields.length < MAX_PARTS) {
    const start = pos + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing `--boundary--`
    const next = body.indexOf(delimiter, start);
    const end = next < 0 ? body.length : next;
    const part = body.subarray(start, end);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = part.toString('latin1', 0, headerEnd).toLowerCase();
      const rawHeaders = part.toString('utf8', 0, headerEnd);
      const disposition = /content-disposition:([^\r\n]*)/i.exec(rawHeaders)?.[1] ?? '';
      const name = param(disposition, 'name') ?? `part${fields.length}`;
      const filename = param(disposition, 'filename');
      const type = /content-type:\s*([^\r\n]*)/.exec(headers)?.[1] ?? '';
      // The part's value ends before the CRLF that precedes the next delimiter.
      let valueEnd = part.length;
      if (next >= 0 && part[valueEnd - 2] === 0x0d && part[valueEnd - 1] === 0x0a) valueEnd -= 2;
      const textual = filename === undefined ? type === '' || isTextualType(type) : isTextualType(type);
      if (textual) fields.push({ path: pathKey(base, name), text: part.toString('utf8', headerEnd + 4, valueEnd) });
    }
    pos = next;
  }
  return fields;
}

export function readUrlencoded(body: Buffer, base: string): FormField[] {
  const fields: FormField[] = [];
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (fields.length >= MAX_PARTS) break;
    fields.push({ path: pathKey(base, name), text: value });
  }
  return fields;
}

/** Audio, images and other binary payloads: not text to inspect. */
export function looksBinary(body: Buffer, contentType: string): boolean {
  const type = contentType.trim().toLowerCase();
  if (/^(?:audio|image|video)\//.test(type) || type.startsWith('application/octet-stream') || type.startsWith('application/pdf')) return true;
  return body.subarray(0, 4096).includes(0);
}

/**
 * The printable ASCII runs of a binary body (like `strings`), newline-joined:
 * a key hidden behind a NUL byte or inside a declared image is still text to
 * the scanner, while the binary noise around it is not.
 */
export function printableRuns(body: Buffer, minRun = 16): string {
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i <= body.length; i++) {
    const b = i < body.length ? body[i]! : 0;
    const printable = b >= 0x20 && b < 0x7f;
    if (printable) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start >= minRun) runs.push(body.toString('latin1', start, i));
      start = -1;
    }
  }
  return runs.join('\n');
}
