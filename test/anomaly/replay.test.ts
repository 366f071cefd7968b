import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { createFingerprinter } from '../../src/fingerprint.js';
import { runReplay } from '../../src/replay/command.js';
import type { Alert } from '../../src/types.js';
import { DAY, MIN, T0 } from './harness.js';

// `gatewatch replay` end to end: records in, alerts out on the simulated clock.

const RAW_KEY = 'sk-litellm-REPLAYTESTKEY0123456789abcdef';
const FP_KEY = 'replay-test-fingerprint-key';

function history(keyField: Record<string, string>): string[] {
  const lines: string[] = [];
  // Four days at 2 requests a minute, then a minute at 50.
  for (let m = 0; m < 4 * 24 * 60; m++) {
    for (const s of [0, 30]) {
      lines.push(
        JSON.stringify({
          time: new Date(T0 + m * MIN + s * 1000).toISOString(),
          ...keyField,
          client_ip: '10.0.0.5',
          user_agent: 'OpenAI/Python 1.40.0',
          user: 'alice',
          team: 'search',
          model: 'gpt-4o-mini',
          path: '/v1/chat/completions',
          status: 200,
          prompt_tokens: 300,
          completion_tokens: 80,
          latency_ms: 900,
        }),
      );
    }
  }
  for (let i = 0; i < 50; i++) {
    lines.push(JSON.stringify({ time: T0 + 4 * DAY + i * 1000, ...keyField, client_ip: '10.0.0.5', user: 'alice', team: 'search', model: 'gpt-4o-mini', status: 200, prompt_tokens: 300, completion_tokens: 80 }));
  }
  return lines;
}

async function replay(argv: string[], input: string): Promise<{ code: number; alerts: Alert[]; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runReplay(argv, { stdin: Readable.from([input]), stdout, stderr });
  const alerts = out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Alert);
  return { code, alerts, out, err };
}

test('replay: a raw key is fingerprinted and never echoed; alerts carry the simulated time', async () => {
  const lines = history({ key: RAW_KEY });
  lines.splice(10, 0, '{"time": "yesterday", "key": "' + RAW_KEY + '"}', 'not json');
  const { code, alerts, out, err } = await replay(['--fingerprint-key', FP_KEY], lines.join('\n') + '\n');
  assert.equal(code, 0, err);
  assert.ok(!out.includes('REPLAYTESTKEY') && !err.includes('REPLAYTESTKEY'), 'the raw key leaked');
  const fp = createFingerprinter(FP_KEY)(RAW_KEY);
  const spike = alerts.filter((a) => a.detector === 'anomaly.request-rate-spike');
  assert.equal(spike.length, 3, JSON.stringify(alerts, null, 1)); // key, user, team
  for (const a of spike) {
    assert.equal(a.identity.key_fingerprint, fp);
    assert.equal(a.category, 'anomaly');
    const t = Date.parse(a.time);
    assert.ok(t >= T0 + 4 * DAY && t < T0 + 4 * DAY + MIN, a.time);
    assert.equal(a.first_seen, a.time);
  }
  assert.match(err, /stdin:11: skipped: "time" must be an ISO 8601 date/);
  assert.match(err, /stdin:12: skipped: not valid JSON/);
  assert.match(err, /11570 records from 2026-01-05T00:00:00\.000Z to 2026-01-09T00:00:49\.000Z, \d+ alerts, 2 lines skipped/);
});

test('replay: a given key_fingerprint is carried unchanged; files are read in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-replay-'));
  try {
    const lines = history({ key_fingerprint: 'fp:1234567890abcdef' });
    writeFileSync(join(dir, 'a.jsonl'), lines.slice(0, 6000).join('\n') + '\n');
    writeFileSync(join(dir, 'b.jsonl'), lines.slice(6000).join('\n') + '\n');
    const { code, alerts } = await replay([join(dir, 'a.jsonl'), join(dir, 'b.jsonl')], '');
    assert.equal(code, 0);
    const keyAlert = alerts.find((a) => a.detector === 'anomaly.request-rate-spike' && a.evidence[0]!.location === 'identity.key_fingerprint');
    assert.equal(keyAlert?.identity.key_fingerprint, 'fp:1234567890abcdef');
    assert.equal(keyAlert?.evidence[0]!.fingerprint, 'fp:1234567890abcdef');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay: a raw key without a fingerprint key, or a key in the fingerprint column, is refused per line', async () => {
  const saved = process.env.GATEWATCH_FINGERPRINT_KEY;
  delete process.env.GATEWATCH_FINGERPRINT_KEY;
  try {
    const input = [
      JSON.stringify({ time: T0, key: RAW_KEY }),
      JSON.stringify({ time: T0, key_fingerprint: RAW_KEY }),
    ].join('\n');
    const { code, out, err } = await replay([], input);
    assert.equal(code, 0);
    assert.equal(out, '');
    assert.match(err, /stdin:1: skipped: "key" needs a fingerprint key/);
    assert.match(err, /stdin:2: skipped: "key_fingerprint" must look like/);
    assert.ok(!err.includes('REPLAYTESTKEY'));
  } finally {
    if (saved !== undefined) process.env.GATEWATCH_FINGERPRINT_KEY = saved;
  }
});

test('replay: bad flags are a usage error (exit 2)', async () => {
  const { code, err } = await replay(['--nope'], '');
  assert.equal(code, 2);
  assert.match(err, /usage: gatewatch replay/);
});
