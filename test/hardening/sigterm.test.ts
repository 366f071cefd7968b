import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { send, sleep } from '../helpers/servers.js';
import { startFakeWebhook } from '../helpers/fake-webhook.js';
import { closeLeftovers, fakeAwsId, FINGERPRINT_KEY, fingerprintOf, secretBody, startRecordingUpstream } from './support.js';

// The process sent SIGTERM under load (spawned CLI, as Kubernetes does it):
// in-flight streams finish, new connections are refused, alerts still queued
// for a slow webhook are delivered, and the process exits 0 within its deadline.

after(closeLeftovers);

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');
const STREAM_EVENTS = 12;
const EVENT_GAP_MS = 100;

function stream(port: number): { firstChunk: Promise<void>; done: Promise<{ status: number; data: string; clean: boolean }> } {
  let first!: () => void;
  const firstChunk = new Promise<void>((r) => (first = r));
  const done = new Promise<{ status: number; data: string; clean: boolean }>((resolve) => {
    let data = '';
    const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        data += c;
        first();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, data, clean: true }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, data, clean: false }));
    });
    req.on('error', () => resolve({ status: 0, data, clean: false }));
    req.end(JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'count slowly' }] }));
  });
  return { firstChunk, done };
}

test('SIGTERM under load: in-flight requests finish, queued alerts are flushed, exit 0 within the deadline', { timeout: 60_000 }, async (t) => {
  const upstream = await startRecordingUpstream((r, res) => {
    if (r.body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const timer = setInterval(() => {
        if (++i <= STREAM_EVENTS) res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `n${i} ` } }] })}\n\n`);
        else {
          clearInterval(timer);
          res.end('data: [DONE]\n\n');
        }
      }, EVENT_GAP_MS);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}]}');
  });
  const webhookSecret = 'whsec-' + 'hardening-0123456789';
  const webhook = await startFakeWebhook(webhookSecret);
  webhook.mode = 'slow';
  webhook.slowMs = 400;
  const dir = mkdtempSync(join(tmpdir(), 'gatewatch-sigterm-'));
  const config = join(dir, 'gatewatch.yaml');
  writeFileSync(
    config,
    [
      'listen: 127.0.0.1:0',
      'admin: 127.0.0.1:0',
      `upstream: ${upstream.url}`,
      'alerts:',
      '  groupWindowMs: 100',
      '  sinks:',
      `    webhook: { url: "${webhook.url}", secret: "${webhookSecret}", minSeverity: low, concurrency: 1 }`,
    ].join('\n'),
  );
  const child = spawn(process.execPath, [CLI, 'run', '--config', config], {
    env: { ...process.env, GATEWATCH_FINGERPRINT_KEY: FINGERPRINT_KEY, OTEL_SDK_DISABLED: 'true', GATEWATCH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        stdout += line + '\n';
        if (line.includes('"gatewatch listening"')) resolve(Number((JSON.parse(line) as { proxy: string }).proxy.split(':').pop()));
      });
      void exited.then(([code]) => reject(new Error(`gatewatch exited with ${code}: ${stderr}`)));
    });

    const streams = Array.from({ length: 10 }, () => stream(port));
    await Promise.all(streams.map((s) => s.firstChunk));
    const keys = Array.from({ length: 5 }, fakeAwsId);
    for (const key of keys) {
      const r = await send(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `the deploy key is ${key}` }] }),
      });
      assert.equal(r.status, 200);
    }
    await sleep(150); // inspection and the group window: the alerts are now queued at the slow webhook

    const signalled = performance.now();
    child.kill('SIGTERM');
    await sleep(200);
    await assert.rejects(send(`http://127.0.0.1:${port}/v1/models`), /ECONNREFUSED|ECONNRESET|socket hang up/, 'new connections are refused while draining');

    for (const s of streams) {
      const out = await s.done;
      assert.equal(out.status, 200);
      assert.equal(out.clean, true, 'an in-flight stream finishes cleanly');
      assert.ok(out.data.endsWith('data: [DONE]\n\n'), 'an in-flight stream gets every event');
      assert.equal(out.data.split('\n\n').length - 1, STREAM_EVENTS + 1);
    }
    const [code, signal] = await exited;
    const took = performance.now() - signalled;
    assert.equal(signal, null);
    assert.equal(code, 0, `exit code (stderr: ${stderr.slice(-500)})`);
    assert.ok(took < 15_000, `drained in ${took} ms (deadline 15 s)`);
    assert.match(stderr, /SIGTERM: draining/);
    t.diagnostic(`drained and exited ${took} ms after SIGTERM`);

    const delivered = JSON.stringify(webhook.accepted);
    for (const key of keys) {
      assert.ok(delivered.includes(fingerprintOf(key)), 'an alert queued at SIGTERM reached the webhook before exit');
      assert.ok(stdout.includes(fingerprintOf(key)), 'and the stdout sink');
    }
    for (const key of keys) {
      for (const [name, text] of [['stdout', stdout], ['stderr', stderr], ['webhook', delivered]] as const) {
        assert.ok(!text.includes(secretBody(key)), `${name} holds a secret body`);
      }
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await webhook.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
