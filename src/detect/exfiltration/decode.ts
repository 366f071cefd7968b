// Finds encoded payloads in prompt text (base64, base64url, hex, \x and \u
// escapes, URL-encoding) and decodes those that turn out to be readable
// text, so the rules can be run on what the payload says. rot13 needs no
// finder: its keywords sit in the prefilter (see rules.ts).

export type Encoding = 'base64' | 'hex' | 'url' | 'escape';

export interface DecodedPayload {
  readonly encoding: Encoding;
  /** Span of the encoded run in the text it was found in. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

// One pass finds every run of 16+ chars that could be a payload (base64
// alphabets, hex, escapes, URL-encoding); classification follows.
export const MIN_RUN = 16;
/** 1 for the ASCII chars a payload run is made of. */
export const RUN_CHAR = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_%.~\\'!*()-") RUN_CHAR[ch.charCodeAt(0)] = 1;
const SPACED_HEX = /\b(?:[0-9a-fA-F]{2}[ :]){7,}[0-9a-fA-F]{2}\b/g;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const X_ESCAPES = /^(?:\\x[0-9a-fA-F]{2})+$/;
const U_ESCAPES = /^(?:\\u[0-9a-fA-F]{4})+$/;
const PERCENT = /%[0-9a-fA-F]{2}/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$|^[A-Za-z0-9_-]+={0,2}$/;

/** True when decoded bytes read as text: valid UTF-8, mostly printable, with a space (a phrase, not a token). */
function readable(s: string): boolean {
  if (s.length < 6 || s.includes('\ufffd') || !(s.includes(' ') || /[\u3040-\u9fff]/.test(s))) return false;
  let printable = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 ? c !== 0x7f : c === 0x0a || c === 0x0d || c === 0x09) printable++;
  }
  return printable / s.length >= 0.95;
}

const MAY_ESCAPE = 1;
const MAY_URL = 2;
const MAY_HEX = 4;
const MAY_BASE64 = 8;

/** 1 for + / = _ -: the base64 alphabets beyond letters and digits. */
const BASE64_PUNCTUATION = new Uint8Array(128);
for (const ch of '+/=_-') BASE64_PUNCTUATION[ch.charCodeAt(0)] = 1;

/**
 * Which decoders below could accept the run `text[start, end)`, from one pass
 * over its chars: escapes need a backslash, URL-encoding a percent sign, hex
 * nothing but hex digits, base64 both cases of letters and nothing but its
 * alphabet inside the punctuation it may be wrapped in. Most runs in prose
 * and code (paths, identifiers, URLs, calls) get none, before any regex.
 */
function payloadShapes(text: string, start: number, end: number): number {
  let shapes = 0;
  let upper = false;
  let lower = false;
  let hex = true;
  let base64 = true;
  /** A base64 char seen, and wrapping punctuation after one. */
  let inside = false;
  let wrapped = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) {
      lower = true;
      if (c > 0x66) hex = false;
    } else if (c >= 0x41 && c <= 0x5a) {
      upper = true;
      if (c > 0x46) hex = false;
    } else if (c < 0x30 || c > 0x39) {
      hex = false;
      if (c >= 0x80 || BASE64_PUNCTUATION[c] === 0) {
        if (c === 0x5c) shapes |= MAY_ESCAPE;
        else if (c === 0x25) shapes |= MAY_URL;
        if (inside) wrapped = true;
        continue;
      }
    }
    if (wrapped) base64 = false;
    inside = true;
  }
  if (hex) shapes |= MAY_HEX;
  if (base64 && upper && lower) shapes |= MAY_BASE64;
  return shapes;
}

/** The run decoded by the first decoder of `shapes` (see payloadShapes) that accepts it. */
function decodeRun(run: string, shapes: number): { encoding: Encoding; text: string } | undefined {
  if ((shapes & MAY_ESCAPE) !== 0) {
    if (X_ESCAPES.test(run)) return { encoding: 'escape', text: Buffer.from(run.replace(/\\x/g, ''), 'hex').toString('utf8') };
    if (U_ESCAPES.test(run)) {
      return { encoding: 'escape', text: run.split('\\u').slice(1).map((h) => String.fromCharCode(parseInt(h, 16))).join('') };
    }
  }
  const percents = (shapes & MAY_URL) !== 0 ? run.match(PERCENT) : null;
  if (percents && percents.length >= 2) {
    try {
      return { encoding: 'url', text: decodeURIComponent(run.replace(/\+/g, ' ')) };
    } catch {
      return undefined;
    }
  }
  if ((shapes & MAY_HEX) !== 0 && HEX.test(run) && /[a-fA-F]/.test(run) && /\d/.test(run)) return { encoding: 'hex', text: Buffer.from(run, 'hex').toString('utf8') };
  if ((shapes & MAY_BASE64) === 0) return undefined;
  const body = run.replace(/^[.~%\\'!*()]+|[.~%\\'!*()]+$/g, '');
  if (body.length >= 16 && BASE64.test(body) && /[a-z]/.test(body) && /[A-Z]/.test(body)) {
    return { encoding: 'base64', text: Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64').toString('utf8') };
  }
  return undefined;
}

/** Start/end pairs of the runs of 16+ payload chars in `text`. */
export function candidateRuns(text: string): number[] {
  const runs: number[] = [];
  for (let i = 0, n = text.length; i < n; ) {
    const c = text.charCodeAt(i);
    if (c >= 128 || RUN_CHAR[c] === 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d >= 128 || RUN_CHAR[d] === 0) break;
      j++;
    }
    if (j - i >= MIN_RUN) runs.push(i, j);
    i = j;
  }
  return runs;
}

/**
 * Spaced hex of text always holds the space, ` 20 ` or `:20:`. Searched for
 * by its digits: a search for a needle that starts with a space stops at
 * every space of the text.
 */
function holdsSpacedHexSpace(text: string): boolean {
  for (let i = text.indexOf('20'); i >= 0; i = text.indexOf('20', i + 2)) {
    const before = text.charCodeAt(i - 1);
    const after = text.charCodeAt(i + 2);
    if ((before === 0x20 && after === 0x20) || (before === 0x3a && after === 0x3a)) return true;
  }
  return false;
}

/**
 * Readable payloads in `text`, in order, stopping once `budget` decoded chars
 * are used up. `runs` (from candidateRuns, or gathered while normalizing)
 * saves a pass over the text.
 */
export function findEncodedPayloads(text: string, budget: number, runs: readonly number[] = candidateRuns(text)): DecodedPayload[] {
  const found: DecodedPayload[] = [];
  if (budget <= 0) return found;
  let used = 0;
  const take = (encoding: Encoding, decoded: string, start: number, end: number): boolean => {
    if (!readable(decoded)) return true;
    const room = budget - used;
    if (room <= 0) return false;
    const t = decoded.length > room ? decoded.slice(0, room) : decoded;
    used += t.length;
    found.push({ encoding, start, end, text: t });
    return used < budget;
  };
  for (let k = 0; k < runs.length; k += 2) {
    const shapes = payloadShapes(text, runs[k]!, runs[k + 1]!);
    if (shapes === 0) continue;
    const d = decodeRun(text.slice(runs[k]!, runs[k + 1]!), shapes);
    if (d && !take(d.encoding, d.text, runs[k]!, runs[k + 1]!)) return found;
  }
  if (!holdsSpacedHexSpace(text)) return found;
  SPACED_HEX.lastIndex = 0;
  for (let m = SPACED_HEX.exec(text); m; m = SPACED_HEX.exec(text)) {
    const decoded = Buffer.from(m[0].replace(/[ :]/g, ''), 'hex').toString('utf8');
    if (!take('hex', decoded, m.index, m.index + m[0].length)) return found;
  }
  return found;
}
