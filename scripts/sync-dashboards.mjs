#!/usr/bin/env node
// Copies dashboards/*.json into helm/gatewatch/dashboards/ (Helm reads files
// only from inside the chart). With --check, changes nothing and exits 1 when
// the chart's copies differ from dashboards/.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'dashboards');
const target = join(root, 'helm', 'gatewatch', 'dashboards');
const check = process.argv.includes('--check');

const jsonFiles = (dir) => readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
mkdirSync(target, { recursive: true });
const wanted = jsonFiles(source);
const problems = [];
for (const file of wanted) {
  let same = false;
  try {
    same = readFileSync(join(source, file)).equals(readFileSync(join(target, file)));
  } catch {
    same = false;
  }
  if (same) continue;
  if (check) problems.push(`helm/gatewatch/dashboards/${file} differs from dashboards/${file}`);
  else copyFileSync(join(source, file), join(target, file));
}
for (const file of jsonFiles(target)) {
  if (wanted.includes(file)) continue;
  if (check) problems.push(`helm/gatewatch/dashboards/${file} has no source in dashboards/`);
  else rmSync(join(target, file));
}
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\nrun: node scripts/sync-dashboards.mjs\n`);
  process.exit(1);
}
if (!check) process.stdout.write(`dashboards synced: ${wanted.join(', ')}\n`);
