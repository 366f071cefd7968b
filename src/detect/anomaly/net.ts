import { isIPv4 } from 'node:net';
import { ipToBytes } from '../../net/cidr.js';

// Client networks and user-agent families: the coarse identities that the
// new-network and new-user-agent detectors remember. A client sends request
// after request, and a verdict asks again: each function remembers its last
// answer.

let lastNetwork = { ip: '', v4Bits: -1, v6Bits: -1, network: '' };

/** The client's network in CIDR form (e.g. `203.0.113.0/24`, `2001:db8:1:2:0:0:0:0/64`); the address itself when unparseable. */
export function networkOf(ip: string, v4Bits: number, v6Bits: number): string {
  const last = lastNetwork;
  if (last.ip === ip && last.v4Bits === v4Bits && last.v6Bits === v6Bits) return last.network;
  const network = computeNetwork(ip, v4Bits, v6Bits);
  lastNetwork = { ip, v4Bits, v6Bits, network };
  return network;
}

function computeNetwork(ip: string, v4Bits: number, v6Bits: number): string {
  const mapped = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(mapped)) {
    const parts = mapped.split('.');
    const n = ((Number(parts[0]) << 24) | (Number(parts[1]) << 16) | (Number(parts[2]) << 8) | Number(parts[3])) >>> 0;
    const m = (n & (v4Bits === 0 ? 0 : (0xffffffff << (32 - v4Bits)) >>> 0)) >>> 0;
    return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}/${v4Bits}`;
  }
  const bytes = ipToBytes(ip.split('%')[0]!);
  if (!bytes) return ip;
  const hextets: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    const keep = Math.max(0, Math.min(16, v6Bits - 8 * i));
    hextets.push((((bytes[i]! << 8) | bytes[i + 1]!) & ((0xffff << (16 - keep)) & 0xffff)).toString(16));
  }
  return `${hextets.join(':')}/${v6Bits}`;
}

let lastAgent: { ua: string | undefined; family: string } = { ua: undefined, family: '(none)' };

/**
 * The software family of a user agent: `curl/8.5.0` → `curl`,
 * `OpenAI/Python 1.40.0` → `openai/python`, any `Mozilla/…` → `browser`.
 */
export function userAgentFamily(ua: string | undefined): string {
  if (ua === lastAgent.ua) return lastAgent.family;
  const family = computeFamily(ua);
  lastAgent = { ua, family };
  return family;
}

function computeFamily(ua: string | undefined): string {
  if (ua === undefined) return '(none)';
  const s = ua.trim().toLowerCase();
  if (s === '') return '(none)';
  if (s.startsWith('mozilla/')) return 'browser';
  const m = /^([a-z0-9._-]+)(?:\/([a-z][a-z0-9._-]*))?/.exec(s);
  if (!m) return '(other)';
  const name = m[1]!.replace(/[._-]?v?\d[\d.]*$/, '');
  return m[2] ? `${name}/${m[2]}` : name;
}
