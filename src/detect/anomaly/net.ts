import { ipToBytes, parseIPv4 } from '../../net/cidr.js';

// Client networks and user-agent families: the coarse identities that the
// new-network and new-user-agent detectors remember.

/** The client's network in CIDR form (e.g. `203.0.113.0/24`, `2001:db8:1:2:0:0:0:0/64`); the address itself when unparseable. */
export function networkOf(ip: string, v4Bits: number, v6Bits: number): string {
  let n = parseIPv4(ip);
  if (n < 0 && ip.startsWith('::ffff:')) n = parseIPv4(ip.slice(7));
  if (n >= 0) {
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

/**
 * The software family of a user agent: `curl/8.5.0` → `curl`,
 * `OpenAI/Python 1.40.0` → `openai/python`, any `Mozilla/…` → `browser`.
 */
export function userAgentFamily(ua: string | undefined): string {
  if (ua === undefined) return '(none)';
  const s = ua.trim().toLowerCase();
  if (s === '') return '(none)';
  if (s.startsWith('mozilla/')) return 'browser';
  const m = /^([a-z0-9._-]+)(?:\/([a-z][a-z0-9._-]*))?/.exec(s);
  if (!m) return '(other)';
  const name = m[1]!.replace(/[._-]?v?\d[\d.]*$/, '');
  return m[2] ? `${name}/${m[2]}` : name;
}
