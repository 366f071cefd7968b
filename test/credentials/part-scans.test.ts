import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { loadCredentialRules } from '../../src/detect/credentials/index.js';
import { createPartScans } from '../../src/detect/engine/part-scans.js';
import { SecretScanner } from '../../src/detect/engine/scanner.js';
import { createContentDetectors } from '../../src/detect/registry.js';
import { makeExchange } from '../../src/exchange.js';
import { createFingerprinter } from '../../src/fingerprint.js';
import type { Finding } from '../../src/types.js';
import { mulberry32, sample } from '../corpus/credentials/formats.js';

const pack = loadCredentialRules();
const rng = mulberry32(7);
const keys = [sample('github-pat-classic', rng), sample('stripe-secret-key', rng), sample('aws-access-key-id', rng)];

class CountingScanner extends SecretScanner {
  calls = 0;
  override scan(text: string) {
    this.calls++;
    return super.scan(text);
  }
}

test('a prompt part is scanned once however many detectors ask', () => {
  const scanner = new CountingScanner(pack);
  const scans = createPartScans(scanner);
  const part = { text: `deploy with ${keys[0]} please` };
  const first = scans.scan(part);
  assert.equal(first.length, 1);
  assert.equal(scans.scan(part), first);
  assert.equal(scanner.calls, 1);
  // Keyed by the part, not its text: another exchange's part is scanned afresh.
  scans.scan({ text: part.text });
  assert.equal(scanner.calls, 2);
});

test('the credential and bulk-data detectors both see the secrets of a shared scan', () => {
  const detectors = createContentDetectors(validateConfig({}), createFingerprinter('part-scans-test'));
  const ex = makeExchange({ prompt: [{ path: 'request.body.messages[0].content', role: 'user', text: `keys: ${keys.join(' , ')}` }] });
  const findings = detectors.flatMap((d) => d.detect(ex, { now: 1_700_000_000_000 }) as Finding[]);
  assert.equal(findings.filter((f) => f.category === 'credential' && f.kind === 'secret').length, 3);
  const bulk = findings.find((f) => f.detector === 'exfiltration.bulk-data');
  assert.ok(bulk, 'bulk-data finding');
  assert.match(bulk.summary ?? '', /3 credentials/);
  assert.match(bulk.summary ?? '', /over threshold: secrets/);
});
