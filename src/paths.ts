import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Source runs from src/ and compiled code from dist/src/: find the package root
// by walking up to package.json so data files resolve the same from both.
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('gatewatch: cannot find package root');
    dir = up;
  }
}

export const PROJECT_ROOT = findRoot();
export const DETECTORS_DIR = join(PROJECT_ROOT, 'detectors');
export const DASHBOARDS_DIR = join(PROJECT_ROOT, 'dashboards');
