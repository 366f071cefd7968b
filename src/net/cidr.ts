import { isIPv6 } from 'node:net';

// CIDR matching for trusted proxies and /24 · /64 grouping of client IPs.

export interface Cidr {
  readonly v6: boolean;
  readonly bits: Uint8Array;
  readonly prefix: number;
}

export function ipToBytes(ip: string): Uint8Array | undefined {
  let v4 = parseIPv4(ip);
  if (v4 < 0 && ip.length > 7 && ip.slice(0, 7).toLowerCase() === '::ffff:') v4 = parseIPv4(ip.slice(7));
  if (v4 >= 0) return Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255);
  if (!isIPv6(ip)) return undefined;
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const parse = (s: string | undefined): number[] => {
    if (!s) return [];
    const out: number[] = [];
    for (const group of s.split(':')) {
      if (group.includes('.')) {
        const v4 = group.split('.').map(Number);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else out.push(parseInt(group, 16));
    }
    return out;
  };
  const h = parse(head);
  const t = parse(tail);
  const groups = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr, len] = text.split('/');
  const bits = ipToBytes(addr ?? '');
  if (!bits) return undefined;
  const max = bits.length * 8;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { v6: bits.length === 16, bits, prefix };
}

/** Whether any of `cidrs` contains `ip`, the address parsed once for all of them. */
export function anyCidrContains(cidrs: readonly Cidr[], ip: string): boolean {
  if (cidrs.length === 0) return false;
  const bytes = ipToBytes(ip);
  return bytes !== undefined && cidrs.some((c) => bytesInCidr(c, bytes));
}

function bytesInCidr(cidr: Cidr, bytes: Uint8Array): boolean {
  if ((bytes.length === 16) !== cidr.v6) return false;
  let remaining = cidr.prefix;
  for (let i = 0; remaining > 0; i++, remaining -= 8) {
    const mask = remaining >= 8 ? 0xff : (0xff << (8 - remaining)) & 0xff;
    if ((bytes[i]! & mask) !== (cidr.bits[i]! & mask)) return false;
  }
  return true;
}

/** The /24 (IPv4) or /64 (IPv6) network an address belongs to, as text. */
export function networkOf(ip: string): string {
  const bytes = ipToBytes(ip);
  if (!bytes) return ip;
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.0/24`;
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${groups.join(':')}::/64`;
}

const DOT = 46;
const ZERO = 48;
const NINE = 57;

/**
 * A dotted-quad IPv4 address as a 32-bit number, or -1 when `s` is none:
 * the addresses node:net's isIPv4 accepts (0–255, no leading zeros), parsed
 * without a regular expression since every request asks.
 */
export function parseIPv4(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= ZERO && c <= NINE) {
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (c - ZERO);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? n * 256 + part : -1;
}
