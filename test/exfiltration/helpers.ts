import { makeExchange } from '../../src/exchange.js';
import { createFingerprinter } from '../../src/fingerprint.js';
import { parseExfiltrationConfig, type ExfiltrationConfig } from '../../src/detect/exfiltration/config.js';
import { createExfiltrationDetectors } from '../../src/detect/exfiltration/index.js';
import type { Detector, Exchange, Finding, Role } from '../../src/types.js';

export const fingerprint = createFingerprinter('test-key');

export function detectorsFor(raw: unknown = {}, countSecrets?: (t: string) => number): Detector[] {
  const config: ExfiltrationConfig = parseExfiltrationConfig(raw);
  return createExfiltrationDetectors({ config, fingerprint, countSecrets });
}

export async function run(detectors: readonly Detector[], exchange: Exchange): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const d of detectors) out.push(...(await d.detect(exchange, { now: 0 })));
  return out;
}

export function promptExchange(text: string, role: Role = 'user'): Exchange {
  return makeExchange({ prompt: [{ path: 'request.body.messages[1].content', role, text }] });
}

/** A toy credential counter for tests: counts `sk-test-` followed by 20+ word chars. */
export function countTestSecrets(text: string): number {
  return (text.match(/sk-test-\w{20,}/g) ?? []).length;
}
