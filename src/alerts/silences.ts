import { randomUUID } from 'node:crypto';
import { GatewatchError } from '../errors.js';
import type { Alert } from '../types.js';
import type { SilenceSpec } from './config.js';
import { compileIdPattern, type IdMatcher } from './match.js';

// Silences mute alerts by detector (id or prefix*), identity (key
// fingerprint, user, team or client IP) and/or route (path prefix); every
// field given must match. They come from the config and the admin API.

export interface Silence {
  readonly id: string;
  readonly detector?: string;
  readonly identity?: string;
  readonly route?: string;
  readonly until?: string;
  readonly comment?: string;
  readonly createdBy: 'config' | 'api';
}

interface Compiled {
  readonly silence: Silence;
  readonly detector?: IdMatcher;
  readonly expiresAt: number;
}

const MAX_SILENCES = 1000;

export class Silences {
  private readonly entries = new Map<string, Compiled>();

  constructor(specs: readonly SilenceSpec[] = [], private readonly clock: () => number = Date.now) {
    for (const spec of specs) this.add(spec, 'config');
  }

  add(spec: SilenceSpec, createdBy: Silence['createdBy'] = 'api'): Silence {
    const problems = validateSpec(spec);
    if (problems.length > 0) throw new GatewatchError('GW_ERR_USAGE', 'invalid silence', problems);
    this.prune();
    if (this.entries.size >= MAX_SILENCES) throw new GatewatchError('GW_ERR_USAGE', `too many silences (max ${MAX_SILENCES})`);
    const silence: Silence = {
      id: spec.id ?? randomUUID(),
      ...(spec.detector !== undefined && { detector: spec.detector }),
      ...(spec.identity !== undefined && { identity: spec.identity }),
      ...(spec.route !== undefined && { route: spec.route }),
      ...(spec.until !== undefined && { until: new Date(spec.until).toISOString() }),
      ...(spec.comment !== undefined && { comment: spec.comment }),
      createdBy,
    };
    this.entries.set(silence.id, {
      silence,
      detector: silence.detector === undefined ? undefined : compileIdPattern(silence.detector),
      expiresAt: silence.until === undefined ? Infinity : Date.parse(silence.until),
    });
    return silence;
  }

  remove(id: string): boolean {
    return this.entries.delete(id);
  }

  list(): Silence[] {
    this.prune();
    return [...this.entries.values()].map((c) => c.silence);
  }

  silenced(alert: Alert, now: number = this.clock()): boolean {
    for (const c of this.entries.values()) {
      if (c.expiresAt <= now) continue;
      if (c.detector && !c.detector(alert.detector)) continue;
      const s = c.silence;
      if (s.identity !== undefined && !identityMatches(alert, s.identity)) continue;
      if (s.route !== undefined && !(alert.request.path ?? '').startsWith(s.route)) continue;
      return true;
    }
    return false;
  }

  private prune(): void {
    const now = this.clock();
    for (const [id, c] of this.entries) if (c.expiresAt <= now) this.entries.delete(id);
  }
}

function identityMatches(alert: Alert, value: string): boolean {
  const i = alert.identity;
  return i.key_fingerprint === value || i.user === value || i.team === value || i.client_ip === value;
}

function validateSpec(spec: SilenceSpec): string[] {
  const problems: string[] = [];
  if (spec === null || typeof spec !== 'object') return ['a silence must be an object'];
  const known = new Set(['id', 'detector', 'identity', 'route', 'until', 'comment']);
  for (const k of Object.keys(spec)) if (!known.has(k)) problems.push(`unknown field "${k}"`);
  for (const k of ['id', 'detector', 'identity', 'route', 'until', 'comment'] as const) {
    const v = spec[k];
    if (v !== undefined && (typeof v !== 'string' || v === '')) problems.push(`${k}: must be a non-empty string`);
  }
  if (spec.detector === undefined && spec.identity === undefined && spec.route === undefined) {
    problems.push('give at least one of detector, identity, route (detector "*" silences everything)');
  }
  if (typeof spec.detector === 'string' && !/^[A-Za-z0-9_.:/-]*\*?$/.test(spec.detector)) problems.push('detector: must be an id or a prefix ending in *');
  if (typeof spec.route === 'string' && !spec.route.startsWith('/')) problems.push('route: must start with /');
  if (typeof spec.until === 'string' && Number.isNaN(Date.parse(spec.until))) problems.push('until: must be an ISO 8601 date-time');
  if (typeof spec.comment === 'string' && spec.comment.length > 500) problems.push('comment: at most 500 characters');
  if (typeof spec.id === 'string' && spec.id.length > 64) problems.push('id: at most 64 characters');
  return problems;
}
