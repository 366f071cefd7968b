import { classifyKey } from './detect/credentials/classify-key.js';
import type { Fingerprinter } from './fingerprint.js';
import { anyCidrContains, parseCidr, type Cidr } from './net/cidr.js';
import type { Identity, KeySource } from './types.js';

// Who sent a request, without keeping the key: the credential becomes its
// type, public prefix, length and keyed fingerprint.

type Headers = Readonly<Record<string, string | string[] | undefined>>;

export interface IdentityOptions {
  readonly fingerprint: Fingerprinter;
  readonly trustedProxies: readonly string[];
  readonly userHeaders: readonly string[];
  readonly teamHeaders: readonly string[];
}

export interface IdentityResolver {
  resolve(headers: Headers, query: string, remoteAddress: string | undefined): Identity;
}

const QUERY_KEY_PARAMS = ['key', 'api_key', 'api-key', 'apikey'];

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The credential a request presents and where it came from. */
export function findCredential(headers: Headers, query: string): { key: string; source: KeySource } | undefined {
  const auth = first(headers.authorization);
  if (auth) {
    const m = /^\s*bearer\s+(\S+)/i.exec(auth);
    if (m) return { key: m[1]!, source: 'authorization' };
  }
  for (const name of ['x-api-key', 'api-key', 'x-goog-api-key'] as const) {
    const v = first(headers[name])?.trim();
    if (v) return { key: v, source: name };
  }
  if (query !== '') {
    const params = new URLSearchParams(query);
    for (const name of QUERY_KEY_PARAMS) {
      const v = params.get(name);
      if (v) return { key: v, source: 'query' };
    }
  }
  return undefined;
}

function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

export function createIdentityResolver(opts: IdentityOptions): IdentityResolver {
  const trusted: Cidr[] = opts.trustedProxies.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== undefined);
  const isTrusted = (ip: string) => anyCidrContains(trusted, ip);
  const headerValue = (headers: Headers, names: readonly string[]) => {
    for (const name of names) {
      const v = first(headers[name])?.trim();
      if (v) return v.slice(0, 256);
    }
    return undefined;
  };

  // The client is the right-most X-Forwarded-For hop that is not a trusted proxy.
  const clientIpOf = (headers: Headers, remote: string): string => {
    let ip = remote;
    if (!isTrusted(ip)) return ip;
    const xff = headers['x-forwarded-for'];
    if (!xff) return ip;
    const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => normalizeIp(s.trim())).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      ip = hops[i]!;
      if (!isTrusted(ip)) break;
    }
    return ip;
  };

  return {
    // Object literals, not `{ ...base, key… }`: V8 (Node 20) adds each key
    // after a leading spread in a runtime call, about 1 µs a key, and this
    // runs for every inspected exchange.
    resolve(headers, query, remoteAddress) {
      const clientIp = clientIpOf(headers, normalizeIp(remoteAddress ?? ''));
      const user = headerValue(headers, opts.userHeaders);
      const team = headerValue(headers, opts.teamHeaders);
      const userAgent = first(headers['user-agent'])?.slice(0, 512);
      const credential = findCredential(headers, query);
      if (!credential) return { clientIp, user, team, userAgent };
      const { keyType, prefix } = classifyKey(credential.key);
      return {
        clientIp,
        user,
        team,
        userAgent,
        keyFingerprint: opts.fingerprint(credential.key),
        keyType,
        keyPrefix: prefix,
        keySource: credential.source,
        keyLength: credential.key.length,
      };
    },
  };
}

/** The resolver a configuration describes. */
export function identityResolverFor(
  config: { readonly proxy: { readonly trustedProxies: readonly string[] }; readonly identity: { readonly userHeaders: readonly string[]; readonly teamHeaders: readonly string[] } },
  fingerprint: Fingerprinter,
): IdentityResolver {
  return createIdentityResolver({
    fingerprint,
    trustedProxies: config.proxy.trustedProxies,
    userHeaders: config.identity.userHeaders,
    teamHeaders: config.identity.teamHeaders,
  });
}
