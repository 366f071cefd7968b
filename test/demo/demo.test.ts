import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// `gatewatch demo --duration 36` as a user runs it: every scripted incident
// must raise its alert (by detector id) on the live stream, and no fake key
// may appear in what the demo prints.

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');

const EXPECTED: Readonly<Record<string, readonly string[]>> = {
  'key pasted into a prompt': ['credential.anthropic-api-key'],
  'system-prompt extraction that succeeds': ['exfiltration.extraction', 'exfiltration.system-prompt-echo'],
  'markdown-image exfiltration': ['exfiltration.channel'],
  '401 storm': ['anomaly.auth-failures-key', 'anomaly.auth-failures-ip'],
  'stolen key from a new IP at 40× its rate': ['anomaly.new-network', 'anomaly.request-rate-spike'],
};

function runCli(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEWATCH_ADMIN_TOKEN: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('gatewatch demo --duration 36: each scripted incident produces its alert', async () => {
  const { code, stdout, stderr } = await runCli(['demo', '--duration', '36', '--seed', '1'], 60_000);
  const alertLines = stdout.split('\n').filter((l) => /^\[\+\s*\d+\.\d+s\]/.test(l));
  const fired = new Set(alertLines.map((l) => l.split(/\s+/)[3]));
  for (const [incident, detectors] of Object.entries(EXPECTED)) {
    for (const d of detectors) assert.ok(fired.has(d), `${incident}: no ${d} alert; alerts were:\n${alertLines.join('\n')}\nstderr:\n${stderr}`);
  }
  // Alerts arrive within a minute of start (the line carries seconds since start).
  for (const line of alertLines) assert.ok(Number(/\+\s*(\d+\.\d+)s/.exec(line)![1]) < 60, line);
  assert.equal(code, 0, `exit code; stdout:\n${stdout}`);
  assert.doesNotMatch(stdout, /MISSED/);
  // The demo's fake keys (LiteLLM-style and Anthropic) never show up in its output.
  for (const text of [stdout, stderr]) {
    assert.doesNotMatch(text, /sk-ant-api03-[A-Za-z0-9_-]{8,}/);
    assert.doesNotMatch(text, /\bsk-[A-Za-z0-9]{22}\b/);
  }
});

test('gatewatch demo refuses a duration too short for the incidents', async () => {
  const { code, stderr } = await runCli(['demo', '--duration', '5'], 10_000);
  assert.equal(code, 2);
  assert.match(stderr, /--duration must be .* at least \d+/);
});
