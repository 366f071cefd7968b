import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RUN_ENV, RUN_NODE_FLAGS } from '../../src/node-flags.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { requireTool } from '../helpers/tools.js';
import { parseDockerfile, replayStages, type Stage } from './dockerfile.js';

// No container engine runs here, so the image is checked three ways: hadolint,
// the structure of the stages, and a replay of the stages' COPY/RUN steps into
// directories (real `npm ci`, real tsc) whose final tree is then inspected and run.

const DOCKERFILE = join(PROJECT_ROOT, 'Dockerfile');
const df = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const finalStage = df.stages.at(-1)!;
const ops = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op).map((i) => i.args);

describe('Dockerfile', () => {
  test('hadolint finds nothing', (t) => {
    const bin = requireTool(t, 'hadolint', 'bash .ci/install-hadolint.sh');
    if (!bin) return;
    const out = execFileSync(bin, ['--no-color', DOCKERFILE], { encoding: 'utf8' });
    assert.equal(out.trim(), '');
  });

  test('multi-stage: npm ci from the lockfile, dev dependencies only in the build stage', () => {
    assert.ok(df.stages.length >= 3, 'build, deps and final stages');
    const build = df.stages.find((s) => s.name === 'build')!;
    const deps = df.stages.find((s) => s.name === 'deps')!;
    for (const stage of [build, deps]) {
      const runs = ops(stage, 'RUN').join('\n');
      assert.match(runs, /\bnpm ci\b/);
      assert.doesNotMatch(runs, /\bnpm (install|i)\b/, 'npm ci only: the lockfile decides');
      assert.ok(ops(stage, 'COPY').some((c) => /package-lock\.json/.test(c)), `${stage.name} copies the lockfile`);
    }
    assert.match(ops(deps, 'RUN').join('\n'), /npm ci --omit=dev/);
    assert.match(ops(build, 'RUN').join('\n'), /tsc -p tsconfig\.json/);
  });

  test('final stage: distroless, non-root, no RUN, only the built tree and production modules, OCI labels', () => {
    assert.match(df.args.get('RUNTIME_IMAGE') ?? '', /^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot$/);
    assert.equal(finalStage.from, df.args.get('RUNTIME_IMAGE'));
    assert.deepEqual(ops(finalStage, 'RUN'), [], 'no shell in the final stage, so nothing may RUN there');
    const user = ops(finalStage, 'USER').at(-1) ?? '';
    assert.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, `USER must be a non-root numeric id, got "${user}"`);
    assert.deepEqual(ops(finalStage, 'COPY').sort(), ['--from=build /app/out ./', '--from=deps /app/node_modules ./node_modules']);
    assert.deepEqual(JSON.parse(ops(finalStage, 'ENTRYPOINT')[0]!), ['/nodejs/bin/node', ...RUN_NODE_FLAGS, 'dist/src/cli.js']);
    assert.deepEqual(JSON.parse(ops(finalStage, 'CMD')[0]!), ['run']);
    const env = ops(finalStage, 'ENV').join(' ');
    for (const [name, value] of Object.entries(RUN_ENV)) assert.match(env, new RegExp(`(^| )${name}=${value}( |$)`), `ENV ${name}`);
    const labels = ops(finalStage, 'LABEL').join(' ');
    for (const key of ['title', 'description', 'licenses', 'version', 'revision', 'source']) {
      assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key}=`), `OCI label ${key}`);
    }
  });

  test('npm start runs gatewatch with the same node flags and environment as the image', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const env = Object.entries(RUN_ENV).map(([name, value]) => `${name}=${value} `).join('');
    assert.match(pkg.scripts['start']!, new RegExp(`&& ${env}node ${RUN_NODE_FLAGS.join(' ')} dist/src/cli\\.js run$`));
  });

  test('.dockerignore admits only what the build copies', () => {
    const lines = readFileSync(join(PROJECT_ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(lines[0], '*', 'deny by default');
    const copied = df.stages.flatMap((s) => ops(s, 'COPY')).filter((c) => !c.startsWith('--from')).flatMap((c) => c.split(/\s+/).slice(0, -1));
    for (const path of copied) assert.ok(lines.includes(`!${path}`) || lines.includes(`!${path}/`), `.dockerignore admits ${path}`);
  });

  test('replayed stages give a runnable final tree without dev dependencies or build tools', { timeout: 300_000 }, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'gatewatch-image-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    // A cache of its own, kept between runs, makes the replay fast and leaves the user's npm cache alone;
    // what is installed is still decided by the lockfile.
    const env = { ...process.env, npm_config_cache: join(tmpdir(), 'gatewatch-image-npm-cache'), npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };
    const roots = await replayStages(df, PROJECT_ROOT, root, env);
    const app = join(roots.at(-1)!, 'app');

    const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const installed = listPackages(join(app, 'node_modules'));
    const devOnly = installed.filter((p) => lock.packages[`node_modules/${p}`]?.dev === true);
    assert.deepEqual(devOnly, [], 'dev-only packages in the image');
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; dependencies: Record<string, string> };
    // A devDependency may be there only when a production package needs it too (the lockfile says so).
    for (const dev of Object.keys(pkg.devDependencies)) {
      if (lock.packages[`node_modules/${dev}`]?.dev === true) assert.ok(!installed.includes(dev), `${dev} (a devDependency) is in the image`);
    }
    assert.ok(!installed.includes('typescript'), 'no TypeScript in the image');
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(installed.includes(dep), `${dep} is missing from the image`);
    assert.ok(!existsSync(join(app, 'node_modules', '.bin', 'tsc')), 'no TypeScript compiler in the image');
    assert.ok(!existsSync(join(app, 'src', 'cli.ts')), 'no TypeScript sources in the image');
    assert.ok(!existsSync(join(app, 'test')), 'no tests in the image');
    assert.ok(existsSync(join(app, 'dist', 'src', 'cli.js')));
    assert.ok(existsSync(join(app, 'detectors')));
    for (const schema of findJson(join(PROJECT_ROOT, 'src'))) {
      assert.ok(existsSync(join(app, 'src', schema)), `runtime schema src/${schema} is in the image`);
    }

    // The final tree runs: the entry point starts and finds its data files.
    const version = execFileSync(process.execPath, ['dist/src/cli.js', '--version'], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.equal(version.trim(), (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    const rules = execFileSync(process.execPath, ['dist/src/cli.js', 'rules', 'list'], { cwd: app, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.match(rules, /^credential\t/m, 'the rule files load from the image');
  });
});

function listPackages(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const sub of readdirSync(join(dir, entry))) out.push(`${entry}/${sub}`);
    else out.push(entry);
  }
  return out.sort();
}

function findJson(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...findJson(join(dir, entry.name), rel));
    else if (entry.name.endsWith('.json')) out.push(rel);
  }
  return out;
}
