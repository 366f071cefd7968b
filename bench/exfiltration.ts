import { makeExchange } from '../src/exchange.js';
import { createFingerprinter } from '../src/fingerprint.js';
import { loadCredentialRules } from '../src/detect/engine/rules-load.js';
import { SecretScanner } from '../src/detect/engine/scanner.js';
import { DEFAULT_EXFILTRATION_CONFIG, parseExfiltrationConfig } from '../src/detect/exfiltration/config.js';
import { createExfiltrationDetectors } from '../src/detect/exfiltration/index.js';
import type { Detector, Exchange } from '../src/types.js';
import { promptSets } from './exfiltration-prompts.js';

// µs per 4 KB prompt for the prompt-side exfiltration detectors (extraction
// rules with normalization and decoding, the prompt model, bulk data) on benign, attack and
// mixed-script prompts; the credential scan of the same prompts in the same
// run is the baseline the ratio is printed against.
//
//   npx tsc -p tsconfig.json && node dist/bench/exfiltration.js

const ROUNDS = 9;
const sets = promptSets(400);

const scanner = new SecretScanner(loadCredentialRules());
const countSecrets = (t: string): number => scanner.scan(t).length;
const detectors = createExfiltrationDetectors({ config: DEFAULT_EXFILTRATION_CONFIG, fingerprint: createFingerprinter('bench'), countSecrets });
const extraction = detectors.filter((d) => d.id === 'exfiltration.extraction');
const rulesWithoutModel = createExfiltrationDetectors({ config: parseExfiltrationConfig({ model: { enabled: false } }), fingerprint: createFingerprinter('bench') }).filter(
  (d) => d.id === 'exfiltration.extraction',
);
const promptSide = detectors.filter((d) => d.id === 'exfiltration.extraction' || d.id === 'exfiltration.bulk-data');
const exfilNoCreds = createExfiltrationDetectors({ config: DEFAULT_EXFILTRATION_CONFIG, fingerprint: createFingerprinter('bench') }).filter(
  (d) => d.id === 'exfiltration.extraction' || d.id === 'exfiltration.bulk-data',
);

/**
 * Best round of CPU µs per prompt. CPU time (process.cpuUsage) rather than
 * wall time, and the minimum over rounds: on a shared machine both keep
 * other processes' load out of the number as far as possible.
 */
function time(items: readonly unknown[], fn: (x: unknown) => void): number {
  for (const x of items) fn(x); // warm-up
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.cpuUsage();
    for (const x of items) fn(x);
    const d = process.cpuUsage(t0);
    rounds.push((d.user + d.system) / items.length);
  }
  return Math.min(...rounds);
}

function runAll(ds: readonly Detector[], ex: Exchange): void {
  for (const d of ds) d.detect(ex, { now: 0 });
}

const rows: string[] = [
  '| 4 KB prompts | credential scan (baseline) | exfiltration rules only | rules + prompt model | exfiltration prompt-side (rules, model, bulk PII) | + bulk credential count | exfil / credential |',
  '|---|---:|---:|---:|---:|---:|---:|',
];
for (const [name, texts] of sets) {
  const exchanges = texts.map((text) => makeExchange({ prompt: [{ path: 'request.body.messages[0].content', role: 'user', text }] }));
  const cred = time(texts, (t) => scanner.scan(t as string));
  const rulesOnly = time(exchanges, (e) => runAll(rulesWithoutModel, e as Exchange));
  const withModel = time(exchanges, (e) => runAll(extraction, e as Exchange));
  const exfil = time(exchanges, (e) => runAll(exfilNoCreds, e as Exchange));
  const withCreds = time(exchanges, (e) => runAll(promptSide, e as Exchange));
  rows.push(`| ${name} | ${cred.toFixed(1)} µs | ${rulesOnly.toFixed(1)} µs | ${withModel.toFixed(1)} µs | ${exfil.toFixed(1)} µs | ${withCreds.toFixed(1)} µs | ${(withModel / cred).toFixed(2)}× |`);
}
process.stdout.write(`node ${process.version}, CPU time, best of ${ROUNDS} rounds, µs per prompt\n\n${rows.join('\n')}\n`);
