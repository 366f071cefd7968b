import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/paths.js';
import { detectorsFor, promptExchange, run } from './helpers.js';

// The labeled corpus (test/corpus/exfiltration, see generate.ts) must keep
// meeting the targets: ≥ 90% of attacks detected, ≤ 0.5% of benign flagged.

interface Sample {
  text: string;
  role: 'user' | 'tool';
}

function load(name: string): Sample[] {
  return readFileSync(join(PROJECT_ROOT, 'test', 'corpus', 'exfiltration', name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Sample);
}

test('corpus: detection ≥ 90% of attacks and ≤ 0.5% false positives', async () => {
  const extraction = detectorsFor().filter((d) => d.id === 'exfiltration.extraction');
  const attacks = load('attacks.jsonl');
  const benign = load('benign.jsonl');
  assert.ok(attacks.length >= 500 && benign.length >= 5000);
  let hit = 0;
  for (const s of attacks) if ((await run(extraction, promptExchange(s.text, s.role))).length > 0) hit++;
  let fp = 0;
  for (const s of benign) if ((await run(extraction, promptExchange(s.text, s.role))).length > 0) fp++;
  assert.ok(hit / attacks.length >= 0.9, `detection ${hit}/${attacks.length}`);
  assert.ok(fp / benign.length <= 0.005, `false positives ${fp}/${benign.length}`);
});
