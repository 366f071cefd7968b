import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { requireTool } from '../helpers/tools.js';
import { CHART_DIR, EXAMPLES_DIR, parseManifests, podSpecs, template } from './helm-tools.js';

// The chart and the program agree: gatewatch is started with exactly the
// arguments, environment and files the chart renders (paths moved to a temp
// dir, ports to loopback), must accept the rendered config, answer its
// probes, and fire the custom rule the chart mounted.

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const ADMIN_TOKEN = 'chart-runs-test-admin-token-0123456789';

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

test('gatewatch runs with the configuration the chart renders, probes answer, custom rules fire', { timeout: 60_000 }, async (t) => {
  const helmBin = requireTool(t, 'helm', 'bash .ci/install-helm.sh');
  if (!helmBin) return;
  const rendered = await template(helmBin, CHART_DIR, '1.35', [join(EXAMPLES_DIR, 'example.yaml')]);
  assert.equal(rendered.code, 0, rendered.stderr);
  const objects = parseManifests(rendered.stdout);
  const spec = podSpecs(objects)[0]!.spec;
  const container = [...(spec.initContainers ?? []), ...spec.containers].find((c: any) => c.name === 'gatewatch');
  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o]));

  const dir = mkdtempSync(join(tmpdir(), 'gatewatch-chart-runs-'));
  const upstream: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":"1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}]}');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Lay out the pod's mounts under the temp dir: /etc/gatewatch → <dir>/etc/gatewatch.
  const relocate = (text: string) => text.replaceAll('/etc/gatewatch', join(dir, 'etc', 'gatewatch'));
  for (const mount of container.volumeMounts) {
    const volume = spec.volumes.find((v: any) => v.name === mount.name);
    if (!volume.configMap) continue;
    const cm = configMaps.get(volume.configMap.name);
    assert.ok(cm, `ConfigMap ${volume.configMap.name} is rendered`);
    const target = relocate(mount.mountPath);
    if (mount.subPath) {
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, relocate(cm.data![mount.subPath]!));
    } else {
      for (const item of volume.configMap.items ?? Object.keys(cm.data!).map((key) => ({ key, path: key }))) {
        mkdirSync(join(target, item.path, '..'), { recursive: true });
        writeFileSync(join(target, item.path), cm.data![item.key]!);
      }
    }
  }

  const listen = await freePort();
  const admin = await freePort();
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const args = (container.args as string[]).map((a) =>
    relocate(a).replace('0.0.0.0:8080', `127.0.0.1:${listen}`).replace('0.0.0.0:9464', `127.0.0.1:${admin}`).replace('http://127.0.0.1:4000', upstreamUrl),
  );
  assert.equal(args[0], 'run');
  const secretValues: Record<string, string> = {
    GATEWATCH_ADMIN_TOKEN: ADMIN_TOKEN,
    GATEWATCH_FINGERPRINT_KEY: 'chart-runs-test-fingerprint-key',
    GATEWATCH_SLACK_WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/services/T0/B0/x`,
  };
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' };
  for (const e of container.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else {
      assert.ok(e.name in secretValues, `the test has a value for ${e.name}`);
      env[e.name] = secretValues[e.name];
    }
  }

  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  t.after(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  // The probes the chart declares, on the admin port.
  const probe = async (path: string) => {
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      if (child.exitCode !== null) assert.fail(`gatewatch exited (${child.exitCode}) with the chart's configuration:\n${output}`);
      const ok = await fetch(`http://127.0.0.1:${admin}${path}`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`${path} never answered 200:\n${output}`);
  };
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  await probe('/healthz');
  await probe('/readyz');

  // The example's custom rule (credentials/acme.yaml, mounted from the rules ConfigMap) fires.
  const token = 'acme_' + 'Q7vN2kLp9XbR4tYw8ZcM3hJd6FgS1aEu';
  const res = await fetch(`http://127.0.0.1:${listen}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-gw-virtual-1', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `deploy with token=${token}` }] }),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const end = Date.now() + 10_000;
  let alerts: { detector: string }[] = [];
  while (Date.now() < end) {
    alerts = (await (await fetch(`http://127.0.0.1:${admin}/api/alerts?limit=50`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { detector: string }[];
    if (alerts.some((a) => a.detector.includes('acme-internal-token'))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(alerts.some((a) => a.detector.includes('acme-internal-token')), `no alert from the custom rule; alerts: ${JSON.stringify(alerts.map((a) => a.detector))}`);
  assert.ok(!JSON.stringify(alerts).includes(token), 'the alert must not carry the token');
});
