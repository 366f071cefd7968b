import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startGatewatch } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';

// `gatewatch demo --target URL`: the traffic goes to a gatewatch started
// separately (plain defaults, no time-lapse), whose alert stream the demo
// prints. Incidents that need no history must be caught there too.

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

test('gatewatch demo --target sends its traffic to a running gatewatch and shows that one\'s alerts', { timeout: 60_000 }, async () => {
  const upstreamPort = await freePort();
  const config = validateConfig({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    upstream: `http://127.0.0.1:${upstreamPort}`,
    fingerprintKey: 'target-test-fingerprint-key',
    alerts: { sinks: { stdout: { enabled: false } } },
  });
  const gw = await startGatewatch(config, { logger: silentLogger() });
  try {
    const child = spawn(
      process.execPath,
      [CLI, 'demo', '--target', `http://127.0.0.1:${gw.proxyAddress.port}`, '--upstream', `127.0.0.1:${upstreamPort}`, '--admin', `127.0.0.1:${gw.adminAddress.port}`, '--duration', '22', '--seed', '2'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEWATCH_ADMIN_TOKEN: '' } },
    );
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(code, 0, stdout);
    assert.match(stdout, /gatewatch demo against http:\/\/127\.0\.0\.1:\d+\//);
    for (const detector of ['credential.anthropic-api-key', 'exfiltration.system-prompt-echo', 'exfiltration.channel', 'anomaly.auth-failures-key', 'anomaly.auth-failures-ip']) {
      assert.match(stdout, new RegExp(`\\] \\w+\\s+${detector.replace(/\./g, '\\.')}\\s`), `${detector} alert printed from the target's stream:\n${stdout}`);
    }
    // The alerts are that gatewatch's own: its API has them too.
    const api = (await (await fetch(`http://127.0.0.1:${gw.adminAddress.port}/api/alerts?limit=100`)).json()) as Array<{ detector: string }>;
    assert.ok(api.some((a) => a.detector === 'exfiltration.channel'));
  } finally {
    await gw.close(2000);
  }
});
