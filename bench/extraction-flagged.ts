import { makeExchange } from '../src/exchange.js';
import { createFingerprinter } from '../src/fingerprint.js';
import { DEFAULT_EXFILTRATION_CONFIG, type ExfiltrationConfig } from '../src/detect/exfiltration/config.js';
import { createExfiltrationDetectors } from '../src/detect/exfiltration/index.js';
import type { Detector, Finding } from '../src/types.js';

// The quality benches' one question of a prompt: does the extraction
// detector, with the shipped rules and default configuration, raise a
// finding on it as the first message of a request?

export type Flagged = (text: string, role?: 'user' | 'tool') => boolean;

/** The question asked with a given exfiltration configuration. */
export function flaggedWith(config: ExfiltrationConfig): Flagged {
  const extraction: Detector = createExfiltrationDetectors({ config, fingerprint: createFingerprinter('bench') }).find((d) => d.id === 'exfiltration.extraction')!;
  return (text, role = 'user') => {
    const ex = makeExchange({ prompt: [{ path: 'request.body.messages[0].content', role, text }] });
    return (extraction.detect(ex, { now: 0 }) as Finding[]).length > 0;
  };
}

export const flagged: Flagged = flaggedWith(DEFAULT_EXFILTRATION_CONFIG);

export function pct(k: number, n: number): string {
  return n === 0 ? '–' : `${((100 * k) / n).toFixed(1)}%`;
}
