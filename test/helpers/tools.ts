import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

// Tests that need an outside tool (redis-server, prometheus, otelcol, helm…)
// find it on PATH or in .tools/bin (where .ci/run builds them). Locally a
// missing tool skips the test loudly; in CI (CI=true) it fails the test.

export const TOOLS_BIN = join(PROJECT_ROOT, '.tools', 'bin');

export function findTool(name: string): string | undefined {
  const dirs = [TOOLS_BIN, ...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface SkipContext {
  skip(message?: string): void;
}

/**
 * Returns the tool's path, or: in CI throws (the test fails), locally marks
 * the test skipped with a loud message on stderr and returns undefined.
 */
export function requireTool(t: SkipContext, name: string, install: string): string | undefined {
  const found = findTool(name);
  if (found) return found;
  const message = `MISSING TOOL: ${name} is not installed (${install}); this test is SKIPPED`;
  if (process.env.CI === 'true') throw new Error(`${message.replace('is SKIPPED', 'cannot be skipped in CI')}`);
  process.stderr.write(`\n*** ${message} ***\n\n`);
  t.skip(message);
  return undefined;
}
