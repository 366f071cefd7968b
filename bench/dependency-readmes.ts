import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/paths.js';

/** Real-world technical prose nobody wrote for a corpus: the paragraphs of the installed dependencies' READMEs. */
export function dependencyReadmeParagraphs(): string[] {
  const modules = join(PROJECT_ROOT, 'node_modules');
  return readdirSync(modules)
    .flatMap((d) => (d.startsWith('@') ? readdirSync(join(modules, d)).map((s) => join(d, s)) : [d]))
    .flatMap((d) => {
      try {
        return [readFileSync(join(modules, d, 'README.md'), 'utf8')];
      } catch {
        return [];
      }
    })
    .join('\n')
    .split(/\n{2,}/);
}
