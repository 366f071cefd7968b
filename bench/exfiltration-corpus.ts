import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/paths.js';

/** One JSON Lines file of the labeled exfiltration corpus (test/corpus/exfiltration), a record per line. */
export function readExfiltrationCorpus<T>(name: string): T[] {
  return readFileSync(join(PROJECT_ROOT, 'test', 'corpus', 'exfiltration', name), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}
