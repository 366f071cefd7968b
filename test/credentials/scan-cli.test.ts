import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { DEFAULT_CREDENTIALS_CONFIG } from '../../src/detect/credentials/config.js';
import { createCredentialDetectors, loadCredentialRules } from '../../src/detect/credentials/index.js';
import { createFingerprinter } from '../../src/fingerprint.js';
import { runScan } from '../../src/scan/command.js';
import { runRulesCommand } from '../../src/scan/rules-command.js';
import { mulberry32, sample } from '../corpus/credentials/formats.js';

const pack = loadCredentialRules();
const fingerprint = createFingerprinter('scan-cli-test');
const detectors = () => createCredentialDetectors({ fingerprint, config: DEFAULT_CREDENTIALS_CONFIG, pack });
const rng = mulberry32(2024);
const OPENAI = sample('openai-project-key', rng);
const ANTHROPIC = sample('anthropic-api-key', rng);
const STRIPE = sample('stripe-secret-key', rng);
const PEM = sample('private-key-rsa', rng);
const SLACK = sample('slack-webhook-url', rng);
const SECRETS = [OPENAI, ANTHROPIC, STRIPE, PEM, SLACK];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function scan(argv: string[], stdin = ''): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runScan(argv, { stdin: Readable.from([stdin]), stdout, stderr }, detectors());
  return { code, stdout: out, stderr: err };
}

/** Every output searched for every 8-character piece of every secret body. */
function assertNoSecrets(run: Run): void {
  const all = run.stdout + run.stderr;
  for (const s of SECRETS) {
    const body = s.replace(/^-----BEGIN [A-Z ]+-----/, '');
    for (let i = 8; i + 8 <= body.length; i += 3) assert.ok(!all.includes(body.slice(i, i + 8)), `secret body in output: ${s.slice(0, 10)}…`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'gw-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('gatewatch scan: JSON Lines', () => {
  test('text lines: one output line per input, findings with offsets in the text and fingerprints, never the secret', async () => {
    const lines = [
      { id: 'a', text: `deploy with ${OPENAI} today` },
      { id: 'b', text: 'nothing to see here, just a question about tokens' },
      { id: 'c', text: `the model said ${STRIPE}`, role: 'completion' },
      { id: 'd', text: `key file:\n${PEM}\nand ${SLACK}` },
    ];
    const run = await scan(['--jsonl'], lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    assert.equal(run.code, 0);
    const out = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; findings: Record<string, unknown>[] });
    assert.deepEqual(out.map((o) => o.id), ['a', 'b', 'c', 'd']);
    assert.deepEqual(out[0]!.findings, [
      { detector: 'credential.openai-project-key', category: 'credential', severity: 'high', start: 12, end: 12 + OPENAI.length, fingerprint: fingerprint(OPENAI) },
    ]);
    assert.deepEqual(out[1]!.findings, []);
    assert.equal(out[2]!.findings[0]!.detector, 'credential.stripe-secret-key');
    assert.deepEqual(out[3]!.findings.map((f) => f.detector), ['credential.private-key-rsa', 'credential.slack-webhook-url']);
    assertNoSecrets(run);
  });

  test('exchange lines are viewed as the proxy would: prompt paths, streamed completions split across deltas', async () => {
    const sse = [`Here: ${ANTHROPIC.slice(0, 20)}`, ANTHROPIC.slice(20, 70), `${ANTHROPIC.slice(70)} done`]
      .map((c) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: c } }] })}\n\n`)
      .join('') + 'data: [DONE]\n\n';
    const line = {
      id: 'ex-1',
      path: '/v1/chat/completions',
      request: { model: 'gpt-4o', stream: true, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: `my key is ${OPENAI}` }] },
      response: sse,
    };
    const run = await scan(['--jsonl'], JSON.stringify(line) + '\n');
    assert.equal(run.code, 0);
    const [out] = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; findings: { detector: string; path: string; fingerprint: string }[] });
    assert.equal(out!.id, 'ex-1');
    const prompt = out!.findings.find((f) => f.detector === 'credential.openai-project-key')!;
    assert.equal(prompt.path, 'request.body.messages[1].content');
    const completion = out!.findings.find((f) => f.detector === 'credential.anthropic-api-key')!;
    assert.match(completion.path, /^response\./);
    assert.equal(completion.fingerprint, fingerprint(ANTHROPIC));
    assertNoSecrets(run);
  });

  test('a bad line is reported and skipped; the scan goes on', async () => {
    const run = await scan(['--jsonl'], `not json\n${JSON.stringify({ id: 2, text: STRIPE })}\n{"id":3}\n`);
    assert.equal(run.code, 0);
    const out = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(out.length, 3);
    assert.equal(out[0]!.error, 'not a JSON object');
    assert.equal(out[1]!.id, 2);
    assert.match(run.stderr, /<stdin>|-:1: not a JSON object/);
    assertNoSecrets(run);
  });
});

describe('gatewatch scan: files, stdin and exit codes', () => {
  const file = join(dir, 'config.env');
  writeFileSync(file, `# settings\nDEBUG=1\nOPENAI_API_KEY=${OPENAI}\n`);
  const clean = join(dir, 'clean.txt');
  writeFileSync(clean, 'just some notes about API keys and tokens\n');

  test('plain files: file:line:col, severity, detector, fingerprint', async () => {
    const run = await scan([file, clean]);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `${file}:3:16\thigh\tcredential.openai-project-key\t${fingerprint(OPENAI)}\tOpenAI project key in the scanned text\n`);
    assertNoSecrets(run);
  });

  test('stdin when no file is given', async () => {
    const run = await scan([], `text ${STRIPE}`);
    assert.match(run.stdout, /^<stdin>:1:6\tcritical\tcredential\.stripe-secret-key\tfp:[0-9a-f]{16}\t/);
  });

  test('--fail-on: 1 when a finding reaches the severity, 0 below it', async () => {
    assert.equal((await scan(['--fail-on', 'critical', file])).code, 0);
    assert.equal((await scan(['--fail-on', 'high', file])).code, 1);
    assert.equal((await scan(['--fail-on', 'low', clean])).code, 0);
  });

  test('usage and input errors exit 2', async () => {
    assert.equal((await scan(['--fail-on', 'severe'])).code, 2);
    assert.equal((await scan(['--bogus'])).code, 2);
    const missing = await scan([join(dir, 'missing.txt')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ENOENT/);
  });
});

describe('gatewatch rules', () => {
  async function rules(argv: string[]): Promise<Run> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await runRulesCommand(argv, { stdin: Readable.from(['']), stdout, stderr });
    return { code, stdout: out, stderr: err };
  }

  test('list names every credential rule', async () => {
    const run = await rules(['list']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^credential\topenai-project-key\tai-providers\topenai\thigh\tOpenAI project key$/m);
    assert.match(run.stdout, new RegExp(`^${pack.rules.length} credential rules, \\d+ exfiltration rules$`, 'm'));
  });

  test('test runs every sample and passes', async () => {
    const run = await rules(['test']);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, new RegExp(`credential rules: ${pack.rules.length}/${pack.rules.length} pass`));
  });

  test('a failing user rule fails the command, naming the rule and the sample by index', async () => {
    const userDir = mkdtempSync(join(dir, 'rules-'));
    writeFileSync(
      join(userDir, 'mine.yaml'),
      `rules:\n  - id: acme-key\n    title: ACME key\n    provider: acme\n    severity: high\n    keywords: [acme_]\n    pattern: 'acme_[0-9]{8}'\n    samples: { positive: ["acme_ABCDEFGH"], negative: ["none"] }\n`,
    );
    const run = await rules(['test', '--rules-dir', userDir]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^FAIL credential acme-key: positive\[0\] not found$/m);
    assert.ok(!run.stdout.includes('acme_ABCDEFGH'));
  });

  test('an unknown subcommand is a usage error', async () => {
    assert.equal((await rules(['frobnicate'])).code, 2);
  });
});
