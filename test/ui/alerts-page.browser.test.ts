import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startGatewatch } from '../../src/app.js';
import { createAlertsPage } from '../../src/admin/ui/page.js';
import { validateConfig } from '../../src/config/load.js';
import { startFakeUpstream } from '../../src/demo/upstream.js';
import { silentLogger } from '../../src/log.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { send } from '../helpers/servers.js';
import { requireTool } from '../helpers/tools.js';

// Debian's chromium, driven by playwright-core, opens the live alerts page
// while `gatewatch demo` runs: alerts arrive live, filters work, one opens
// with its evidence and runbook, and a screenshot is saved for people to see.

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');
const ARTIFACTS = join(PROJECT_ROOT, 'test', 'artifacts');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Polls from the test side: the page's CSP (rightly) forbids the string evaluation waitForFunction uses.
async function waitForCount(locator: { count(): Promise<number> }, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await locator.count()) < n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} rows after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startDemo(): { child: ChildProcessWithoutNullStreams; pageUrl: Promise<string>; output: () => string } {
  // Longer than the test needs even on a loaded machine: the test stops the demo itself,
  // and a demo that ended first would leave the page reconnecting to nothing.
  const child = spawn(process.execPath, [CLI, 'demo', '--duration', '110', '--seed', '3'], { env: { ...process.env, GATEWATCH_ADMIN_TOKEN: '' } });
  let out = '';
  const pageUrl = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /alerts page\s+(http:\/\/127\.0\.0\.1:\d+\/ui\/)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', () => reject(new Error(`demo exited before printing the page URL:\n${out}`)));
  });
  return { child, pageUrl, output: () => out };
}

test('the live alerts page during a demo: live alerts, filters, detail, screenshot', { timeout: 150_000 }, async (t) => {
  const executablePath = requireTool(t, 'chromium', 'bash .ci/install-chromium.sh');
  if (!executablePath) return;
  const profile = mkdtempSync(join(tmpdir(), 'gatewatch-chromium-'));
  const demo = startDemo();
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 900 } });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(await demo.pageUrl);
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
    const atOpen = await page.locator('#feed tr.alert').count();

    // Alerts arrive on the stream while the page is open (the incidents start at +9s).
    await waitForCount(page.locator('#feed tr.alert'), atOpen + 6, 40_000);
    // The spike is judged on the demo's time-lapse clock: on a loaded machine inspection runs behind.
    await page.waitForSelector('#feed tr.alert[data-detector="anomaly.request-rate-spike"]', { timeout: 45_000 });
    const categories = await page.locator('#feed tr.alert').evaluateAll((rows) => new Set(rows.map((r) => r.getAttribute('data-category'))).size);
    assert.ok(categories >= 3, 'alerts of all three categories arrived');

    // Filter: anomaly only, then medium and above.
    await page.click('#filter-category .chip[data-category="credential"]');
    await page.click('#filter-category .chip[data-category="exfiltration"]');
    const shownCategories = await page.locator('#feed tr.alert').evaluateAll((rows) => [...new Set(rows.map((r) => r.getAttribute('data-category')))]);
    assert.deepEqual(shownCategories, ['anomaly']);
    await page.selectOption('#filter-severity', 'medium');
    const severities = await page.locator('#feed tr.alert').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-severity')));
    assert.ok(severities.length > 0 && severities.every((s) => s === 'medium' || s === 'high' || s === 'critical'), `severities ${severities.join(',')}`);

    // Back to everything; open the pasted-key alert.
    await page.selectOption('#filter-severity', 'info');
    await page.click('#filter-category .chip[data-category="credential"]');
    await page.click('#filter-category .chip[data-category="exfiltration"]');
    await page.click('#feed tr.alert[data-detector="credential.anthropic-api-key"]');
    await page.waitForSelector('#detail:not([hidden])');
    assert.match(await page.textContent('#d-title') ?? '', /Anthropic API key/);
    assert.match(await page.textContent('#d-evidence') ?? '', /request\.body\.messages\[0\]\.content/);
    assert.match(await page.textContent('#d-evidence') ?? '', /fp:[0-9a-f]{16}/);
    assert.ok(await page.isVisible('#d-runbook'), 'runbook link shown');
    assert.match((await page.getAttribute('#d-runbook', 'href')) ?? '', /runbook/);

    await page.waitForTimeout(5_500); // let the request chart get a few polls in
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'alerts-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, 'a screenshot was written');
    assert.deepEqual(problems, [], 'no console errors (CSP violations show up here)');
  } finally {
    await context.close();
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      const closed = new Promise((r) => demo.child.once('close', r));
      demo.child.kill('SIGINT');
      await closed;
    }
    rmSync(profile, { recursive: true, force: true });
  }
});

test('with a token: the page takes ?token=, streams through the relay, and shows hostile alert text as text', { timeout: 60_000 }, async (t) => {
  const executablePath = requireTool(t, 'chromium', 'bash .ci/install-chromium.sh');
  if (!executablePath) return;
  const token = `ui-test-token-${Date.now().toString(36)}-0123456789`;
  const upstream = await startFakeUpstream({ revokedKeys: new Set() });
  const config = validateConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', upstream: upstream.url, adminToken: token, fingerprintKey: 'ui-test', alerts: { sinks: { stdout: { enabled: false } } } });
  const page = createAlertsPage({ token, requireToken: false });
  const gw = await startGatewatch(config, { logger: silentLogger(), adminExtensions: [page] });
  const profile = mkdtempSync(join(tmpdir(), 'gatewatch-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS });
  try {
    const tab = context.pages()[0] ?? (await context.newPage());
    const admin = `http://127.0.0.1:${gw.adminAddress.port}`;
    assert.equal((await tab.goto(`${admin}/ui/`))?.status(), 401);
    await tab.goto(`${admin}/ui/?token=${token}`);
    await tab.waitForSelector('#status[data-state="live"]', { timeout: 10_000 });
    assert.doesNotMatch(tab.url(), /token=/, 'the token is dropped from the address bar');

    // Attacker-controlled text reaches alerts through headers and bodies.
    const user = '<img src=x id=injected-user onerror="window.__xss=1">';
    const model = '<script id=injected-model>window.__xss=2</script>';
    const pasted = `sk-ant-api03-${randomBytes(70).toString('base64url').slice(0, 93)}AA`;
    await send(`http://127.0.0.1:${gw.proxyAddress.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-uitestclientkey0000000', 'x-litellm-user': user },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: `key: ${pasted}` }] }),
    });
    await tab.waitForSelector('#feed tr.alert[data-detector="credential.anthropic-api-key"]', { timeout: 10_000 });
    await tab.click('#feed tr.alert[data-detector="credential.anthropic-api-key"]');
    await tab.waitForSelector('#detail:not([hidden])');
    const shown = (await tab.textContent('body')) ?? '';
    assert.ok(shown.includes(model) || shown.includes(user), 'the hostile text is shown, as text');
    assert.equal(await tab.locator('#injected-user, #injected-model').count(), 0, 'no element was injected');
    assert.equal(await tab.evaluate('window.__xss'), undefined);
    assert.ok(!shown.includes(pasted.slice(13)), 'the pasted key body is not on the page');
  } finally {
    await context.close();
    page.close();
    await gw.close(2000);
    await upstream.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
