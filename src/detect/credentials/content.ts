import type { Fingerprinter } from '../../fingerprint.js';
import { severityRank, type DetectContext, type Detector, type Exchange, type Finding } from '../../types.js';
import type { PartScans } from '../engine/part-scans.js';
import type { SecretMatch } from '../engine/scanner.js';
import { StreamScanner } from '../engine/stream-scanner.js';
import type { CredentialsConfig } from './config.js';
import type { LeakCorrelator } from './correlation.js';
import { secretFinding, type MatchContext } from './findings.js';
import type { LivenessTracker } from './liveness.js';

// Finds secrets in everything an exchange carries: request headers (except
// the request's own credential, which is its identity, not a leak), the URL
// query, every prompt part, completion part and tool call, and WebSocket
// messages (scanned as one stream per direction, so a secret split across
// messages is found).

/** Session cookies are the caller's credential too, and proxies' own auth is not traffic. */
const SKIPPED_HEADERS = new Set(['cookie', 'proxy-authorization']);

interface Hit {
  readonly match: SecretMatch;
  readonly ctx: MatchContext;
}

export interface ContentDetectorDeps {
  /** The scanner, with prompt parts scanned through it once per exchange so other detectors can reuse the scans. */
  readonly partScans: PartScans;
  readonly fingerprint: Fingerprinter;
  readonly config: CredentialsConfig;
  readonly liveness: LivenessTracker | undefined;
  readonly correlator: LeakCorrelator;
}

export function createContentDetector(deps: ContentDetectorDeps): Detector {
  const { partScans, fingerprint, config, liveness, correlator } = deps;
  const { scanner } = partScans;
  const minRank = severityRank(config.minSeverity);

  function scanText(text: string, ctx: MatchContext, out: Hit[]): void {
    if (text.length === 0) return;
    for (const match of scanner.scan(text)) out.push({ match, ctx });
  }

  function scanHeaders(ex: Exchange, out: Hit[]): void {
    // Every key source but the query is the name of the header the credential came in.
    const own: string | undefined = ex.identity.keySource === 'query' ? undefined : ex.identity.keySource;
    for (const [name, value] of Object.entries(ex.requestHeaders)) {
      if (value === undefined || name === own || SKIPPED_HEADERS.has(name)) continue;
      const values = Array.isArray(value) ? value : [value];
      values.forEach((v, i) => scanText(v, { path: `request.headers.${name}${values.length > 1 ? `[${i}]` : ''}` }, out));
    }
  }

  function scanQuery(query: string, out: Hit[]): void {
    if (query === '') return;
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const raw = eq < 0 ? '' : pair.slice(eq + 1);
      let value = raw;
      try {
        value = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        // keep the raw text when it is not valid percent-encoding
      }
      scanText(value, { path: `request.query.${safeName(name)}` }, out);
    }
  }

  function scanWebSocket(ex: Exchange, out: Hit[]): void {
    for (const direction of ['client', 'upstream'] as const) {
      const messages = ex.wsMessages.filter((m) => !m.binary && m.direction === direction);
      if (messages.length === 0) continue;
      const stream = new StreamScanner(scanner);
      const starts: number[] = [];
      let pos = 0;
      const place = (m: SecretMatch): void => {
        // The message the secret starts in names the location; offsets are relative to it.
        let i = starts.length - 1;
        while (i > 0 && starts[i]! > m.start) i--;
        const base = starts[i]!;
        out.push({ match: { ...m, start: m.start - base, end: m.end - base }, ctx: { path: messages[i]!.path, where: 'a WebSocket message' } });
      };
      for (const msg of messages) {
        starts.push(pos);
        pos += msg.text.length;
        for (const m of stream.push(msg.text)) place(m);
      }
      for (const m of stream.end()) place(m);
    }
  }

  return {
    id: 'credential.content',
    category: 'credential',
    detect(ex: Exchange, ctx: DetectContext): Finding[] {
      const hits: Hit[] = [];
      if (config.scanHeaders) scanHeaders(ex, hits);
      scanQuery(ex.query, hits);
      for (const p of ex.prompt) {
        const at: MatchContext = p.role === 'tool' ? { path: p.path, where: 'a tool result' } : { path: p.path };
        for (const match of partScans.scan(p)) hits.push({ match, ctx: at });
      }
      for (const p of ex.completion) scanText(p.text, { path: p.path }, hits);
      for (const t of ex.toolCalls) scanText(t.arguments, { path: t.path, where: 'tool-call arguments' }, hits);
      scanWebSocket(ex, hits);

      const findings: Finding[] = [];
      const ownKey = ex.identity.keyFingerprint;
      for (const { match, ctx: where } of hits) {
        const fp = fingerprint(match.secret);
        // The request's own credential, repeated in the query or another header, is identity, not a leak.
        if (fp === ownKey && (where.path.startsWith('request.query') || where.path.startsWith('request.headers'))) continue;
        let severity = match.severity;
        let note = '';
        if (liveness) {
          liveness.recordLeak(fp, ctx.now);
          const state = liveness.stateOf(fp);
          if (state === 'live') {
            severity = 'critical';
            note = '; the upstream accepted this key (live)';
          } else if (state === 'revoked') note = '; the upstream refused this key (revoked)';
        }
        const incident = correlator.record(fp, ctx.now, { user: ex.identity.user, clientIp: ex.identity.clientIp });
        if (incident.count > 1) {
          note += `; seen ${incident.count} times by ${incident.users || 1} user(s) from ${incident.clientIps} client IP(s) since ${new Date(incident.firstSeen).toISOString()}`;
        }
        if (severityRank(severity) < minRank) continue;
        findings.push(secretFinding(match, where, fp, severity, note));
        if (findings.length >= config.maxFindingsPerExchange) break;
      }
      return findings;
    },
  };
}

/** Query parameter names go into a location path: keep them short and plain. */
function safeName(name: string): string {
  const clean = name.replace(/[^\w.-]/g, '_').slice(0, 64);
  return clean === '' ? '_' : clean;
}
