// Checksums some token formats carry, so a candidate can be confirmed as a
// well-formed token offline. Names here are the values of a rule's
// `checksum` field.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE) of the ASCII/Latin-1 code units of s. */
export function crc32(s: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < s.length; i++) c = CRC_TABLE[(c ^ s.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function base62(n: number, width: number): string {
  let out = '';
  let v = n;
  do {
    out = BASE62[v % 62]! + out;
    v = Math.floor(v / 62);
  } while (v > 0);
  return out.padStart(width, '0');
}

/**
 * GitHub's token format (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`; npm's `npm_`
 * follows it): 30 random base62 characters, then the CRC-32 of those 30
 * characters in base62, zero-padded to 6.
 */
export function validCrc32Base62Token(token: string): boolean {
  const us = token.indexOf('_');
  const body = token.slice(us + 1);
  if (body.length !== 36) return false;
  return base62(crc32(body.slice(0, 30)), 6) === body.slice(30);
}

function base64UrlJson(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A JWT's header is base64url JSON that names its algorithm. */
export function validJwt(token: string): boolean {
  const dot = token.indexOf('.');
  if (dot < 0) return false;
  const header = base64UrlJson(token.slice(0, dot));
  return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
}

export type ChecksumName = 'crc32-base62' | 'jwt';

export const CHECKSUMS: Readonly<Record<ChecksumName, (secret: string) => boolean>> = {
  'crc32-base62': validCrc32Base62Token,
  jwt: validJwt,
};
