import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isGatewatchError } from '../../src/errors.js';
import { listExfiltrationRules, testExfiltrationRules } from '../../src/detect/exfiltration/rules-cli.js';
import { loadExtractionRules } from '../../src/detect/exfiltration/rules.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function ruleDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-exfil-rules-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

for (const result of testExfiltrationRules()) {
  test(`rule ${result.id}: every positive sample matches and no negative does`, () => {
    assert.deepEqual(result.failures, []);
  });
}

test('rules: families, languages and weights are as documented', () => {
  const rules = listExfiltrationRules();
  const families = new Set(rules.map((r) => r.family));
  for (const f of ['ignore-previous', 'reveal', 'reformat', 'start-with', 'roleplay', 'indirect', 'render-exfil', 'discussion']) {
    assert.ok(families.has(f), `family ${f}`);
  }
  const langs = new Set(rules.map((r) => r.lang));
  for (const l of ['en', 'es', 'fr', 'de', 'pt', 'it', 'ru', 'zh', 'ja']) assert.ok(langs.has(l), `language ${l}`);
  assert.ok(rules.some((r) => r.weight < 0), 'discussion rules lower the score');
  assert.equal(new Set(rules.map((r) => r.id)).size, rules.length, 'ids are unique');
});

const VALID = `family: custom
description: test
rules:
  - id: custom.canary-phrase
    lang: en
    weight: 1.5
    keywords: [zebra]
    patterns: ['zebra protocol']
    samples:
      positive: ['start the zebra protocol']
      negative: ['a zebra at the zoo']
`;

test('rules: an extra directory adds rules and replaces built-ins by id', () => {
  const override = VALID.replace('custom.canary-phrase', 'reveal.en').replace('family: custom', 'family: reveal');
  const dir = ruleDir({ 'a.yaml': VALID, 'b.yaml': override.replace('custom.canary', 'x') });
  const rules = loadExtractionRules([dir]);
  assert.ok(rules.some((r) => r.id === 'custom.canary-phrase'));
  const reveal = rules.find((r) => r.id === 'reveal.en')!;
  assert.equal(reveal.weight, 1.5);
  assert.ok(reveal.file.startsWith(dir));
});

function loadError(files: Record<string, string>): string[] {
  try {
    loadExtractionRules([ruleDir(files)]);
  } catch (e) {
    assert.ok(isGatewatchError(e));
    assert.equal(e.code, 'GW_ERR_RULE_INVALID');
    return [...e.problems];
  }
  assert.fail('expected GW_ERR_RULE_INVALID');
}

test('rules: schema errors name the file, the rule id and the field', () => {
  const problems = loadError({ 'bad.yaml': VALID.replace('weight: 1.5', 'weight: "high"') });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /bad\.yaml: rule custom\.canary-phrase: \/rules\/0\/weight: must be number/);
});

test('rules: a rule without negative samples is rejected', () => {
  const problems = loadError({ 'bad.yaml': VALID.replace("      negative: ['a zebra at the zoo']\n", '') });
  assert.match(problems[0]!, /rule custom\.canary-phrase: \/rules\/0\/samples: must have required property 'negative'/);
});

test('rules: unsafe regexes are rejected at load', () => {
  const problems = loadError({ 'bad.yaml': VALID.replace("'zebra protocol'", "'(?:zebra|horse)+ protocol'") });
  assert.match(problems[0]!, /bad\.yaml: rule custom\.canary-phrase: \/patterns\/0: nested quantifier/);
});

test('rules: duplicate ids in one directory are rejected', () => {
  const problems = loadError({ 'a.yaml': VALID, 'b.yaml': VALID });
  assert.match(problems[0]!, /b\.yaml: rule custom\.canary-phrase: \/id: duplicate rule id/);
});

test('rules: unparseable YAML names the file', () => {
  const problems = loadError({ 'broken.yaml': 'family: [unclosed' });
  assert.match(problems[0]!, /broken\.yaml: cannot parse/);
});

test('rules: an anchored rule with a match outside its second group is rejected, naming the sample', () => {
  const anchored = VALID.replace('    keywords: [zebra]\n', '    keywords: [zebra]\n    alsoKeywords: [protocol]\n    anchored: true\n')
    .replace("patterns: ['zebra protocol']", "patterns: ['zebra (?:protocol|plan)']")
    .replace("positive: ['start the zebra protocol']", "positive: ['start the zebra protocol', 'start the Zebra plan']");
  const problems = loadError({ 'also.yaml': anchored });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /also\.yaml: rule custom\.canary-phrase: \/alsoKeywords: positive sample 2 matches "zebra plan", which holds no word of this group/);
  assert.doesNotThrow(() => loadExtractionRules([ruleDir({ 'ok.yaml': anchored.replace('[protocol]', '[protocol, plan]') })]));
  // Detector processes skip this check only for the shipped rules: other directories are always checked.
  const dir = ruleDir({ 'also.yaml': anchored });
  assert.throws(() => loadExtractionRules([dir], undefined, { checkShippedSamples: false }), /invalid exfiltration rules/);
  assert.throws(() => loadExtractionRules([], dir, { checkShippedSamples: false }), /invalid exfiltration rules/);
});

test('rules: the shipped rules load the same with and without their sample check', () => {
  const ids = (rules: readonly { id: string; regex: RegExp }[]) => rules.map((r) => `${r.id} ${r.regex.source}`);
  assert.deepEqual(ids(loadExtractionRules([], undefined, { checkShippedSamples: false })), ids(loadExtractionRules()));
});
