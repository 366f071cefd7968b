import { randomUUID } from 'node:crypto';
import type { Alert, AlertEvidence, Exchange, Finding, Location } from '../types.js';
import { looksRandom } from '../telemetry/labels.js';
import { defaultRunbook } from './runbooks.js';

// The one builder from a finding to an alert: every sink's payload is made
// from its result. It copies only what the alert schema allows — type,
// prefix, length, fingerprint, location — never text from the exchange
// besides the finding's own secret-free preview.

const MAX_PREVIEW = 160;
const MAX_TEXT = 500;
const MAX_PATH = 200;

export function buildAlert(finding: Finding, exchange: Exchange, now: number): Alert {
  const time = new Date(now).toISOString();
  const id = exchange.identity;
  return {
    id: randomUUID(),
    time,
    detector: finding.detector,
    category: finding.category,
    severity: finding.severity,
    title: clip(finding.title, MAX_TEXT),
    summary: clip(finding.summary ?? describe(finding), MAX_TEXT),
    identity: defined({
      key_fingerprint: id.keyFingerprint,
      key_type: id.keyType,
      client_ip: id.clientIp || undefined,
      user: scrub(id.user),
      team: scrub(id.team),
    }),
    request: defined({
      method: exchange.method,
      path: normalizePath(exchange.path),
      provider: exchange.provider,
      model: scrub(exchange.model),
      trace_id: exchange.traceId,
      direction: exchange.direction,
    }),
    evidence: [evidenceOf(finding)],
    count: 1,
    first_seen: time,
    last_seen: time,
    runbook: finding.runbook ?? defaultRunbook(finding.detector),
  };
}

function evidenceOf(f: Finding): AlertEvidence {
  return defined({
    location: f.location ? formatLocation(f.location) : f.category,
    kind: f.kind ?? f.category,
    fingerprint: f.fingerprint,
    preview: f.preview === undefined || f.preview === '' ? undefined : clip(f.preview, MAX_PREVIEW),
  });
}

/** `request.body.messages[3].content chars 120-171`. */
export function formatLocation(loc: Location): string {
  const path = safePath(loc.path);
  if (loc.start === undefined) return path;
  return `${path} chars ${loc.start}-${loc.end ?? loc.start}`;
}

/**
 * A JSON path is built from the body's own keys, and a client can use a
 * secret as a key: any segment that looks like a key becomes `*`.
 */
export function safePath(path: string): string {
  return path.replace(/[^.[\]"']+/g, (segment) => (segment.length > 64 || looksRandom(segment) ? '*' : segment));
}

function describe(f: Finding): string {
  const parts: string[] = [];
  if (f.keyType) parts.push(`type ${f.keyType}`);
  if (f.prefix) parts.push(`prefix ${f.prefix}`);
  if (f.length !== undefined) parts.push(`${f.length} chars`);
  if (f.fingerprint) parts.push(f.fingerprint);
  if (f.location) parts.push(`at ${formatLocation(f.location)}`);
  return parts.length > 0 ? `${f.title} (${parts.join(', ')})` : f.title;
}

// A path segment that is an id or holds a token (sometimes a key pasted
// into a URL) becomes `:id`, which also keeps paths usable for grouping.
const ID_SEGMENT = /^(?:\d+|[0-9a-f]{8,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
// A token: a run of 20+ word characters holding a piece (between - and _)
// that is 20+ long with a digit, or 8+ long mixing letters and digits.
// Model names (`claude-3-5-sonnet-20241022`) have neither.
const RUN = /[A-Za-z0-9_-]{20,}/g;
const DIGIT = /\d/;
const LETTER = /[A-Za-z]/;

function tokenLike(run: string): boolean {
  for (const piece of run.split(/[-_]/)) {
    if (piece.length >= 20 && DIGIT.test(piece)) return true;
    if (piece.length >= 8 && DIGIT.test(piece) && LETTER.test(piece)) return true;
  }
  return false;
}

function hasTokenRun(text: string): boolean {
  for (const m of text.matchAll(RUN)) if (tokenLike(m[0])) return true;
  return false;
}

export function normalizePath(path: string): string {
  const q = path.indexOf('?');
  const bare = q === -1 ? path : path.slice(0, q);
  const out = bare
    .split('/')
    .map((seg) => (seg !== '' && (ID_SEGMENT.test(seg) || hasTokenRun(seg) || seg.length > 64) ? ':id' : seg))
    .join('/');
  return out.length > MAX_PATH ? out.slice(0, MAX_PATH) : out;
}

/**
 * Values the client controls (model, gateway user/team) are copied into
 * alerts; a token-like run in them (a key pasted as a model name) is cut out.
 */
export function scrub(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return clip(value.replace(RUN, (run) => (tokenLike(run) ? '[redacted]' : run)), 256);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Drops undefined fields so payloads hold only what is known. */
function defined<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as Array<keyof T>) if (obj[k] === undefined) delete obj[k];
  return obj;
}
