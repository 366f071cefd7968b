import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCredentialRules } from '../src/detect/engine/rules-load.js';
import { SecretScanner } from '../src/detect/engine/scanner.js';
import { DEFAULT_EXFILTRATION_CONFIG } from '../src/detect/exfiltration/config.js';
import { createExtractionDetector, scoreText } from '../src/detect/exfiltration/extraction-detector.js';
import { loadPromptModel } from '../src/detect/exfiltration/prompt-model.js';
import { loadExtractionRules } from '../src/detect/exfiltration/rules.js';
import { promptSets } from './exfiltration-prompts.js';
import { numberFlag } from './flags.js';

// Instructions per 4 KB prompt for the extraction rules (alone and with the
// prompt model), next to the credential scan of the same prompts, counted by
// valgrind's callgrind on the matching thread. Unlike time, an instruction
// count does not move when other processes share the machine, so two builds
// can be compared to a fraction of a percent on a noisy machine; it does not
// see cache misses, so it complements bench/exfiltration.ts rather than
// replacing it. Slow:
// a few minutes, most of it the warm-up that lets V8 optimize under
// valgrind (V8 runs with --single-threaded so that no compilation lands in
// the counted part).
//
//   npx tsc -p tsconfig.json && node dist/bench/exfiltration-instructions.js [--prompts N] [--warmup N]

const args = process.argv.slice(2);
const PROMPTS = numberFlag(args, 'prompts', 200);
const WARMUP = numberFlag(args, 'warmup', 40);
const SETS = ['ordinary (documents, code, questions)', 'keyword-dense benign (all kinds, incl. talk about injection)'];
const UNDER_CALLGRIND = 'GATEWATCH_BENCH_UNDER_CALLGRIND';
/** Counted parts per set: the credential scan, the rules, the rules with the prompt model. */
const PARTS = 3;

if (process.env[UNDER_CALLGRIND] === undefined) measureUnderCallgrind();
else runCountedParts();

/** The parent: runs this script again under callgrind and reads its dumps. */
function measureUnderCallgrind(): void {
  const dir = mkdtempSync(join(tmpdir(), 'gatewatch-callgrind-'));
  const run = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--smc-check=all-non-file', '--dump-instr=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, 'cg.%p')}`, process.execPath, '--single-threaded', fileURLToPath(import.meta.url), ...args],
    { env: { ...process.env, [UNDER_CALLGRIND]: '1' }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  if (run.error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot start valgrind (${run.error.message}); install it (Debian: apt-get install valgrind)`);
  }
  if (run.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the counted run failed (exit ${run.status}):\n${run.stderr.slice(-2000)}`);
  }
  // cg.<pid>.<n>-01: the n-th dump (one per counted part, in order) of the
  // main thread, where the matching runs; cg.<pid>-01 is the final dump at exit.
  const part = (f: string) => Number(/^cg\.\d+\.(\d+)-01$/.exec(f)?.[1]);
  const dumps = readdirSync(dir)
    .filter((f) => part(f) > 0)
    .sort((a, b) => part(a) - part(b));
  const counts = dumps.map((f) => Number(/^summary: (\d+)$/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1]));
  rmSync(dir, { recursive: true, force: true });
  if (counts.length !== SETS.length * PARTS || counts.some((c) => !(c > 0))) throw new Error(`expected ${SETS.length * PARTS} counted parts, got ${counts.join(', ')}`);
  const rows = ['| 4 KB prompts | credential scan (baseline) | exfiltration rules only | rules + prompt model | exfil / credential |', '|---|---:|---:|---:|---:|'];
  const n = (c: number) => Math.round(c / PROMPTS).toLocaleString('en');
  SETS.forEach((name, k) => {
    const [cred, rules, withModel] = counts.slice(PARTS * k, PARTS * k + PARTS) as [number, number, number];
    rows.push(`| ${name} | ${n(cred)} | ${n(rules)} | ${n(withModel)} | ${(withModel / cred).toFixed(2)}× |`);
  });
  process.stdout.write(`node ${process.version}, callgrind, instructions per prompt (main thread), ${PROMPTS} prompts a set after ${WARMUP} warm-up passes\n\n${rows.join('\n')}\n`);
}

/** The child, under callgrind: zeroes the counters before each part and dumps them after it. */
function runCountedParts(): void {
  const control = (...flags: string[]) => execFileSync('callgrind_control', [...flags, String(process.pid)], { stdio: 'ignore' });
  const scanner = new SecretScanner(loadCredentialRules());
  const { matcher } = createExtractionDetector({ config: DEFAULT_EXFILTRATION_CONFIG, rules: loadExtractionRules([]) });
  const model = loadPromptModel();
  const sets = new Map(promptSets(PROMPTS));
  for (const name of SETS) {
    const prompts = sets.get(name)!;
    for (let i = 0; i < WARMUP; i++) {
      for (const p of prompts) scanner.scan(p);
      for (const p of prompts) matcher.match(p);
      for (const p of prompts) scoreText(matcher, p, model);
    }
    control('--zero');
    for (const p of prompts) scanner.scan(p);
    control('--dump');
    control('--zero');
    for (const p of prompts) matcher.match(p);
    control('--dump');
    control('--zero');
    for (const p of prompts) scoreText(matcher, p, model);
    control('--dump');
  }
}
