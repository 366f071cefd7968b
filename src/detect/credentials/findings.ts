import type { Finding, Severity } from '../../types.js';
import type { SecretMatch } from '../engine/scanner.js';

// Builds a finding from a match. What leaves here about a secret: its rule,
// type, public prefix, length, fingerprint and location. Never its body.

export const RUNBOOK = 'https://github.com/gatewatch/gatewatch/blob/main/docs/runbooks/credential-leak.md';

/** Human words for where a JSON path points. */
export function describeLocation(path: string): string {
  if (path.startsWith('request.headers.')) return 'a request header';
  if (path.startsWith('request.query')) return 'the URL query';
  if (path.includes('tool_calls') || path.includes('function_call') || path.includes('tool_use') || path.includes('functionCall')) return 'tool-call arguments';
  if (path.startsWith('ws.') || path.startsWith('websocket')) return 'a WebSocket message';
  if (path.startsWith('response.')) return 'the completion';
  if (path.startsWith('request.')) return 'the request prompt';
  return 'the scanned text';
}

export interface MatchContext {
  readonly path: string;
  /** Overrides describeLocation (e.g. `tool result`). */
  readonly where?: string;
}

export function publicPrefix(secret: string, rulePrefix: string): string {
  return rulePrefix !== '' && secret.startsWith(rulePrefix) && rulePrefix.length < secret.length ? rulePrefix : '';
}

/** `fingerprint` is the secret's HMAC fingerprint, computed once by the caller. */
export function secretFinding(m: SecretMatch, ctx: MatchContext, fingerprint: string, severity: Severity = m.severity, note = ''): Finding {
  const where = ctx.where ?? describeLocation(ctx.path);
  const prefix = publicPrefix(m.secret, m.rule.prefix);
  const length = m.end - m.start;
  const checksum = m.checksum === 'valid' ? ', checksum valid' : m.checksum === 'invalid' ? ', checksum does not verify' : '';
  return {
    detector: `credential.${m.rule.id}`,
    category: 'credential',
    severity,
    title: `${m.rule.title} in ${where}`,
    summary: `${m.rule.title} (${prefix ? `${prefix}…, ` : ''}${length} chars${checksum}) at ${ctx.path} chars ${m.start}–${m.end}${note}`,
    location: { path: ctx.path, start: m.start, end: m.end },
    kind: 'secret',
    fingerprint,
    keyType: m.rule.provider,
    ...(prefix ? { prefix } : {}),
    length,
    runbook: RUNBOOK,
  };
}
