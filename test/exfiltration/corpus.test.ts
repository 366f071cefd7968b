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

// public-style.jsonl: prompts written in the style of public sets (deepset's
// prompt-injections, PromptInject, DAN-type jailbreaks, Gandalf, indirect
// injections) and benign prompts that share their words. The rules were tuned
// on most of them (bench/RESULTS.md says which sets were fresh when measured),
// so this is a regression check, not a measure: every attack is found unless
// marked as a known miss, and only the benign prompts marked as known false
// positives are flagged.
test('corpus: public-style prompts are found, known misses and false positives stay marked', async () => {
  const extraction = detectorsFor().filter((d) => d.id === 'exfiltration.extraction');
  const rows = readFileSync(join(PROJECT_ROOT, 'test', 'corpus', 'exfiltration', 'public-style.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; text: string; label: 'attack' | 'benign'; knownMiss?: boolean; knownFalsePositive?: boolean });
  const wrong: string[] = [];
  for (const r of rows) {
    const flagged = (await run(extraction, promptExchange(r.text, 'user'))).length > 0;
    const expected = r.label === 'attack' ? r.knownMiss !== true : r.knownFalsePositive === true;
    if (flagged !== expected) wrong.push(`${r.id} (${r.label}) ${flagged ? 'flagged' : 'not flagged'}: ${r.text.slice(0, 60)}`);
  }
  assert.deepEqual(wrong, []);
});
