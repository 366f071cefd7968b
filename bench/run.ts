import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `npm run bench`: the benchmarks that finish in a minute or two, one after
// the other, each printing its own table with its baseline. The longer ones
// run with --all (the credential scanner against secretlint, about 5
// minutes; the proxy, about 3) or on their own (the 30-minute soak).
//
//   npm run bench [-- --all]

interface Bench {
  readonly script: string;
  readonly nodeArgs?: readonly string[];
  readonly long?: boolean;
}

const BENCHES: readonly Bench[] = [
  { script: 'exfiltration-quality.js' },
  { script: 'credentials-quality.js' },
  { script: 'exfiltration.js' },
  { script: 'anomaly-cost.js', nodeArgs: ['--expose-gc'] },
  { script: 'anomaly-sim.js' },
  { script: 'alerts.js' },
  { script: 'scan.js', long: true },
  { script: 'proxy.js', long: true },
];

const here = dirname(fileURLToPath(import.meta.url));
const all = process.argv.includes('--all');
const failed: string[] = [];
for (const bench of BENCHES) {
  if (bench.long && !all) continue;
  const command = ['node', ...(bench.nodeArgs ?? []), `dist/bench/${bench.script}`].join(' ');
  process.stdout.write(`\n## ${command}\n\n`);
  const run = spawnSync(process.execPath, [...(bench.nodeArgs ?? []), join(here, bench.script)], { stdio: 'inherit' });
  if (run.status !== 0) failed.push(`${command} (${run.signal ?? `exit ${run.status}`})`);
}
if (!all) {
  const skipped = BENCHES.filter((b) => b.long).map((b) => `node dist/bench/${b.script}`);
  process.stdout.write(`\nNot run (longer; npm run bench -- --all runs them): ${skipped.join(', ')}. The soak: node dist/bench/soak.js.\n`);
}
if (failed.length > 0) {
  process.stderr.write(`bench: failed: ${failed.join('; ')}\n`);
  process.exit(1);
}
