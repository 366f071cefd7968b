import { shannonEntropy } from '../engine/entropy.js';
import type { DetectContext, Detector, Exchange, Finding, Severity } from '../../types.js';
import { findEncodedPayloads } from './decode.js';
import { countPii, totalPii } from './pii.js';
import type { SecretCounter } from './preview.js';

// Exfiltration channels in model output: markdown images and links, HTML
// img/a, and URLs in tool-call arguments, that point outside the allowlist
// and carry data in their path, query or host (long or random-looking
// segments, encoded text, a credential or personal data). Images are worst:
// the client fetches them with no click.

export const CHANNEL_DETECTOR_ID = 'exfiltration.channel';

export type ChannelKind = 'markdown-image' | 'markdown-link' | 'html-img' | 'html-link' | 'tool-call-url';

const OUTPUT_CHANNELS: readonly [ChannelKind, RegExp][] = [
  ['markdown-image', /!\[[^\]\n]{0,300}\]\(\s*<?([^)\s>]+)/g],
  ['markdown-link', /(?<!!)\[[^\]\n]{0,300}\]\(\s*<?([^)\s>]+)/g],
  ['markdown-link', /^[ \t]{0,3}\[[^\]\n]{1,100}\]:[ \t]*<?(\S+?)>?$/gm],
  ['html-img', /<img\b[^>]{0,500}?\bsrc\s*=\s*["']?([^"'\s>]+)/gi],
  ['html-link', /<a\b[^>]{0,500}?\bhref\s*=\s*["']?([^"'\s>]+)/gi],
];
const TOOL_URL = /https?:\/\/[^\s"'<>`\\]+/g;

const BASE_SEVERITY: Readonly<Record<ChannelKind, Severity>> = {
  'markdown-image': 'high',
  'html-img': 'high',
  'tool-call-url': 'high',
  'markdown-link': 'medium',
  'html-link': 'medium',
};

export class HostAllowlist {
  private readonly hosts: readonly string[];
  constructor(hosts: readonly string[]) {
    this.hosts = hosts.map((h) => h.toLowerCase().replace(/^\*?\./, ''));
  }
  allows(host: string): boolean {
    const h = host.toLowerCase().replace(/\.$/, '');
    return this.hosts.some((a) => h === a || h.endsWith(`.${a}`));
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Why a URL's path, query or host looks like it carries data; empty when it does not. */
export function dataSignals(url: URL, countSecrets?: SecretCounter): string[] {
  const reasons = new Set<string>();
  const pieces: string[] = [];
  for (const seg of url.pathname.split('/')) if (seg) pieces.push(safeDecode(seg));
  for (const [k, v] of url.searchParams) pieces.push(k, v);
  if (url.hash.length > 1) pieces.push(safeDecode(url.hash.slice(1)));
  const labels = url.hostname.split('.');
  for (const label of labels.slice(0, -2)) if (label.length >= 24 || (label.length >= 16 && shannonEntropy(label) >= 3.5)) reasons.add('data in host name');
  for (const p of pieces) {
    if (p.length >= 64) reasons.add('long segment');
    if (p.length >= 20 && shannonEntropy(p) >= 4) reasons.add('high-entropy segment');
    if (/\S+ \S+ \S+/.test(p) || findEncodedPayloads(p, 4096).length > 0) reasons.add('encoded text');
    if (totalPii(countPii(p)) > 0) reasons.add('personal data');
    if (countSecrets && countSecrets(p) > 0) reasons.add('credential');
  }
  return [...reasons];
}

interface FoundUrl {
  readonly kind: ChannelKind;
  readonly url: string;
  readonly start: number;
}

function findUrls(text: string, channels: readonly [ChannelKind, RegExp][]): FoundUrl[] {
  const out: FoundUrl[] = [];
  for (const [kind, re] of channels) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const url = m[1] ?? m[0];
      out.push({ kind, url, start: m.index + m[0].lastIndexOf(url) });
    }
  }
  return out;
}

export function createChannelDetector(opts: { allowlistHosts: readonly string[]; countSecrets?: SecretCounter }): Detector {
  const allow = new HostAllowlist(opts.allowlistHosts);
  const { countSecrets } = opts;
  const check = (found: FoundUrl, path: string, findings: Finding[]): void => {
    let url: URL;
    try {
      url = new URL(found.url);
    } catch {
      return;
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || allow.allows(url.hostname)) return;
    const reasons = dataSignals(url, countSecrets);
    if (reasons.length === 0) return;
    const sensitive = reasons.includes('credential') || reasons.includes('personal data');
    const hostCarriesData = reasons.includes('data in host name');
    findings.push({
      detector: CHANNEL_DETECTOR_ID,
      category: 'exfiltration',
      severity: sensitive ? 'critical' : BASE_SEVERITY[found.kind],
      title: `Data sent to a host outside the allowlist through a ${found.kind.replace(/-/g, ' ')}`,
      summary: `${found.kind} to ${hostCarriesData ? 'an unlisted host' : url.hostname}: ${reasons.join(', ')}`,
      location: { path, start: found.start, end: found.start + found.url.length },
      kind: 'url',
      preview: hostCarriesData ? undefined : url.hostname,
    });
  };
  return {
    id: CHANNEL_DETECTOR_ID,
    category: 'exfiltration',
    detect(exchange: Exchange, _ctx: DetectContext): Finding[] {
      const findings: Finding[] = [];
      for (const part of exchange.completion) {
        if (part.text.length === 0 || !/[(\]=:]/.test(part.text)) continue;
        for (const found of findUrls(part.text, OUTPUT_CHANNELS)) check(found, part.path, findings);
      }
      for (const call of exchange.toolCalls) {
        TOOL_URL.lastIndex = 0;
        for (let m = TOOL_URL.exec(call.arguments); m; m = TOOL_URL.exec(call.arguments)) {
          check({ kind: 'tool-call-url', url: m[0], start: m.index }, call.path, findings);
        }
      }
      return findings;
    },
  };
}
