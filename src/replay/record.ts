import { makeExchange } from '../exchange.js';
import type { Fingerprinter } from '../fingerprint.js';
import type { Exchange } from '../types.js';

// One line of replay input: a request record as a gateway's spend log knows
// it. A raw `key` is fingerprinted here and dropped; it is never echoed,
// not even in an error message.

export interface ReplayRecord {
  readonly time: number;
  readonly exchange: Exchange;
}

export class RecordError extends Error {}

// A fingerprint carried through must look like one: this keeps a raw key
// pasted into the wrong column from being copied into the alerts.
const FINGERPRINT = /^[A-Za-z0-9_.-]{1,32}:[0-9A-Fa-f]{8,64}$/;

function text(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new RecordError(`"${field}" must be a string`);
  if (v.length > 512) throw new RecordError(`"${field}" is longer than 512 characters`);
  return v;
}

function count(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RecordError(`"${field}" must be a non-negative number`);
  return v;
}

/** Epoch milliseconds from an ISO date, epoch seconds or epoch milliseconds. */
export function parseTime(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw new RecordError('"time" must be an ISO 8601 date or epoch seconds/milliseconds');
}

export function parseRecord(line: string, fingerprint: Fingerprinter | undefined): ReplayRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new RecordError('not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RecordError('not a JSON object');
  const r = raw as Record<string, unknown>;
  const time = parseTime(r.time);
  let keyFingerprint: string | undefined;
  if (r.key !== undefined && r.key !== null && r.key !== '') {
    if (typeof r.key !== 'string') throw new RecordError('"key" must be a string');
    if (!fingerprint) throw new RecordError('"key" needs a fingerprint key (--fingerprint-key or GATEWATCH_FINGERPRINT_KEY)');
    keyFingerprint = fingerprint(r.key);
  } else if (r.key_fingerprint !== undefined && r.key_fingerprint !== null && r.key_fingerprint !== '') {
    if (typeof r.key_fingerprint !== 'string' || !FINGERPRINT.test(r.key_fingerprint)) {
      throw new RecordError('"key_fingerprint" must look like fp:0123456789abcdef (PREFIX:HEX)');
    }
    keyFingerprint = r.key_fingerprint;
  }
  const status = count(r.status, 'status') ?? 200;
  const latency = count(r.latency_ms, 'latency_ms') ?? 0;
  const promptTokens = count(r.prompt_tokens, 'prompt_tokens');
  const completionTokens = count(r.completion_tokens, 'completion_tokens');
  const user = text(r.user, 'user');
  const team = text(r.team, 'team');
  const userAgent = text(r.user_agent, 'user_agent');
  const model = text(r.model, 'model');
  const path = text(r.path, 'path') ?? '/';
  const exchange = makeExchange({
    method: 'POST',
    path: path.split('?')[0]!,
    identity: {
      clientIp: text(r.client_ip, 'client_ip') ?? '',
      ...(keyFingerprint !== undefined ? { keyFingerprint } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(team !== undefined ? { team } : {}),
      ...(userAgent !== undefined ? { userAgent } : {}),
    },
    ...(model !== undefined ? { model } : {}),
    status,
    usage: {
      ...(promptTokens !== undefined ? { promptTokens } : {}),
      ...(completionTokens !== undefined ? { completionTokens } : {}),
    },
    timings: { start: time - latency, end: time },
  });
  return { time, exchange };
}
