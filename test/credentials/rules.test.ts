import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { listRules, loadCredentialRules, testRules } from '../../src/detect/credentials/rules.js';
import { isGatewatchError } from '../../src/errors.js';

// The rule pack: every rule's own samples, the coverage the issue asks for,
// and load-time validation that names the file, the rule and the field.

const pack = loadCredentialRules();

describe('every credential rule passes its own samples', () => {
  for (const result of testRules(pack)) {
    test(result.rule, () => assert.deepEqual(result.failures, []));
  }
});

test('the pack covers at least 200 credential types, with unique ids', () => {
  assert.ok(pack.rules.length >= 200, `only ${pack.rules.length} rules`);
  assert.equal(new Set(pack.rules.map((r) => r.id)).size, pack.rules.length);
});

test('the AI providers a gateway routes to are all covered', () => {
  const providers = new Set(pack.rules.map((r) => r.provider));
  for (const p of ['openai', 'anthropic', 'google', 'azure-openai', 'aws', 'cohere', 'mistral', 'groq', 'together', 'fireworks', 'perplexity', 'deepseek', 'xai', 'openrouter', 'huggingface', 'replicate', 'langsmith', 'pinecone', 'voyage', 'elevenlabs', 'litellm']) {
    assert.ok(providers.has(p), `no rule for ${p}`);
  }
  const ids = new Set(pack.rules.map((r) => r.id));
  for (const id of ['openai-project-key', 'openai-service-account-key', 'openai-admin-key', 'openai-user-key', 'anthropic-api-key', 'anthropic-admin-key', 'gcp-service-account-key', 'aws-secret-near-key-id', 'litellm-master-key', 'litellm-virtual-key', 'github-fine-grained-pat', 'slack-webhook-url', 'jwt', 'private-key-openssh', 'private-key-pgp', 'postgres-url', 'url-basic-auth', 'generic-api-key', 'generic-password']) {
    assert.ok(ids.has(id), `missing rule ${id}`);
  }
});

test('listRules names each rule with its family and file', () => {
  const list = listRules(pack);
  const openai = list.find((r) => r.id === 'openai-project-key')!;
  assert.equal(openai.family, 'ai-providers');
  assert.equal(openai.file, 'detectors/credentials/ai-providers.yaml');
});

function withRulesDir(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gw-rules-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const RULE = (over: string) => `rules:
  - id: acme-token
    title: ACME token
    provider: acme
    severity: high
    keywords: [acme_]
    samples: { positive: ["acme_Zq8Xw2Lp9Kd4Rt6Yb1Nm"], negative: ["acme_token"] }
${over}`;

test('a user rule directory adds rules and overrides built-in ones by id', () => {
  withRulesDir(
    {
      'acme.yaml': RULE("    pattern: 'acme_[A-Za-z0-9]{20}'\n"),
      'override.yaml': `rules:
  - id: jwt
    title: JSON Web Token (quieter)
    provider: jwt
    severity: low
    keywords: [eyj]
    pattern: 'eyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}'
    samples: { positive: ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmU"], negative: ["eyJhbGciOiJIUzI1NiJ9"] }
`,
    },
    (dir) => {
      const merged = loadCredentialRules([dir]);
      assert.equal(merged.rules.length, pack.rules.length + 1);
      assert.equal(merged.rules.find((r) => r.id === 'jwt')!.severity, 'low');
      assert.ok(testRules(merged).find((r) => r.rule === 'acme-token')!.passed);
    },
  );
});

function loadError(files: Record<string, string>): { code: string; problems: readonly string[] } {
  let caught: unknown;
  withRulesDir(files, (dir) => {
    try {
      loadCredentialRules([dir]);
    } catch (e) {
      caught = e;
    }
  });
  assert.ok(isGatewatchError(caught), 'expected a GatewatchError');
  return { code: caught.code, problems: caught.problems };
}

test('schema errors name the file, the rule id and the field', () => {
  const { code, problems } = loadError({ 'bad.yaml': RULE('    pattern: 42\n') });
  assert.equal(code, 'GW_ERR_RULE_INVALID');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /bad\.yaml: rule "acme-token": \/pattern: must be string \(GW_ERR_RULE_INVALID\)$/);
});

test('unknown fields and missing samples are rejected', () => {
  const { problems } = loadError({ 'bad.yaml': RULE("    pattern: 'acme_[a-z]{20}'\n    colour: red\n").replace(/    samples:.*\n/, '') });
  assert.ok(problems.some((p) => /rule "acme-token": \/: unknown field "colour"/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /rule "acme-token": \/: missing required field "samples"/.test(p)), problems.join('\n'));
});

test('a pattern that can backtrack catastrophically is rejected at load, naming the rule', () => {
  const { code, problems } = loadError({ 'slow.yaml': RULE("    pattern: '(?:acme_[a-z]+)+x'\n") });
  assert.equal(code, 'GW_ERR_RULE_UNSAFE_REGEX');
  assert.match(problems[0]!, /slow\.yaml: rule "acme-token": \/pattern: nested quantifier/);
});

test('an invalid regular expression is rejected with its rule id', () => {
  const { code, problems } = loadError({ 'broken.yaml': RULE("    pattern: 'acme_[a-z'\n") });
  assert.ok(code === 'GW_ERR_RULE_INVALID' || code === 'GW_ERR_RULE_UNSAFE_REGEX');
  assert.match(problems[0]!, /broken\.yaml: rule "acme-token": \/pattern: /);
});
