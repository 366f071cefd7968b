import { isIPv4, isIPv6 } from 'node:net';

// Client networks and user-agent families: the coarse identities that the
// new-network and new-user-agent detectors remember.

/** The client's network in CIDR form (e.g. `203.0.113.0/24`, `2001:db8:1:2::/64`); the address itself when unparseable. */
export function networkOf(ip: string, v4Bits: number, v6Bits: number): string {
  const mapped = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(mapped)) {
    const parts = mapped.split('.').map(Number);
    const n = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
    const mask = v4Bits === 0 ? 0 : (0xffffffff << (32 - v4Bits)) >>> 0;
    const m = (n & mask) >>> 0;
    return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}/${v4Bits}`;
  }
  if (isIPv6(ip)) {
    const hextets = expandIPv6(ip);
    const out: string[] = [];
    for (let i = 0; i < 8; i++) {
      const bits = Math.max(0, Math.min(16, v6Bits - 16 * i));
      const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
      out.push((hextets[i]! & mask).toString(16));
    }
    return `${out.join(':')}/${v6Bits}`;
  }
  return ip;
}

function expandIPv6(ip: string): number[] {
  let addr = ip.split('%')[0]!;
  // An embedded IPv4 tail (::ffff:1.2.3.4 forms) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4) {
    const p = v4[1]!.split('.').map(Number);
    addr = addr.slice(0, v4.index) + `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((x) => parseInt(x, 16));
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
