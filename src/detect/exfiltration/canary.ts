import type { Fingerprinter } from '../../fingerprint.js';
import type { DetectContext, Detector, Exchange, Finding } from '../../types.js';
import { fold, isWordCode } from './normalize.js';

// Canaries are strings the operator plants in system prompts or documents.
// One that comes back in a completion, a tool call or an upstream WebSocket
// message means the hidden context leaked. Matching is exact, and also on
// the folded word characters only, so spacing, case or look-alike tricks do
// not hide it. Findings name the canary by fingerprint, never by value.

export const CANARY_DETECTOR_ID = 'exfiltration.canary';

interface Canary {
  readonly raw: string;
  readonly compact: string;
  readonly fingerprint: string;
}

/** Folded word chars of `text` and each one's original offset. */
function compact(text: string): { text: string; map: number[] } {
  let out = '';
  const map: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const f = fold(cp);
    for (let k = 0; k < f.length; k++) {
      if (isWordCode(f.charCodeAt(k))) {
        out += f[k];
        map.push(i);
      }
    }
    if (cp > 0xffff) i++;
  }
  return { text: out, map };
}

function locate(canary: Canary, text: string): { start: number; end: number } | undefined {
  const at = text.indexOf(canary.raw);
  if (at >= 0) return { start: at, end: at + canary.raw.length };
  if (canary.compact.length < 8) return undefined;
  const c = compact(text);
  const k = c.text.indexOf(canary.compact);
  if (k < 0) return undefined;
  return { start: c.map[k]!, end: c.map[k + canary.compact.length - 1]! + 1 };
}

export function createCanaryDetector(canaries: readonly string[], fingerprint: Fingerprinter): Detector {
  const list: Canary[] = canaries.map((raw) => ({ raw, compact: compact(raw).text, fingerprint: fingerprint(raw) }));
  return {
    id: CANARY_DETECTOR_ID,
    category: 'exfiltration',
    detect(exchange: Exchange, _ctx: DetectContext): Finding[] {
      const places = [
        ...exchange.completion.map((p) => ({ path: p.path, text: p.text, where: 'completion' })),
        ...exchange.toolCalls.map((t) => ({ path: t.path, text: t.arguments, where: 'tool call' })),
        ...exchange.wsMessages.filter((m) => m.direction === 'upstream' && !m.binary).map((m) => ({ path: m.path, text: m.text, where: 'WebSocket message' })),
      ];
      const findings: Finding[] = [];
      for (const canary of list) {
        for (const place of places) {
          const span = locate(canary, place.text);
          if (!span) continue;
          findings.push({
            detector: CANARY_DETECTOR_ID,
            category: 'exfiltration',
            severity: 'critical',
            title: `Canary string in a ${place.where}`,
            summary: `registered canary ${canary.fingerprint} appeared in a ${place.where}: hidden context leaked`,
            location: { path: place.path, ...span },
            kind: 'canary',
            fingerprint: canary.fingerprint,
            length: canary.raw.length,
          });
        }
      }
      return findings;
    },
  };
}
