import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

// Real-world prose nobody wrote for a corpus, in bulk: the paragraphs of the
// machine's own documentation (READMEs, NEWS, FAQs and text files under
// /usr/share/doc, and the man pages of sections 1, 5 and 8). What is there
// depends on the machine's packages, so the count is printed beside the rate.

const DOC_ROOT = '/usr/share/doc';
const MAN_SECTIONS = ['/usr/share/man/man1', '/usr/share/man/man5', '/usr/share/man/man8'];
const PROSE_FILE = /(?:README|NEWS|FAQ|HOWTO|\.md|\.txt)(?:\.gz)?$/i;
const MIN_LENGTH = 40;
const MAX_LENGTH = 4000;

function read(path: string): string {
  const bytes = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    try {
      if (statSync(path).isDirectory()) return filesUnder(path, keep);
    } catch {
      return []; // a dangling link
    }
    return keep(name) ? [path] : [];
  });
}

/** A man page's text without its roff requests and font escapes; paragraph breaks kept. */
function manText(roff: string): string {
  return roff
    .split('\n')
    .map((line) => (line.startsWith('.') || line.startsWith("'") ? '' : line))
    .join('\n')
    .replace(/\\f[BIRP]|\\f\(..|\\\(..|\\&|\\e/g, '')
    .replace(/\\-/g, '-');
}

function paragraphs(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.split(/\s+/).join(' ').trim())
    .filter((p) => p.length >= MIN_LENGTH && p.length <= MAX_LENGTH);
}

/** Distinct paragraphs of the installed documentation; empty where the machine has none. */
export function systemDocParagraphs(): string[] {
  const docs = filesUnder(DOC_ROOT, (name) => PROSE_FILE.test(name)).flatMap((path) => paragraphs(read(path)));
  const man = MAN_SECTIONS.flatMap((dir) => filesUnder(dir, (name) => name.endsWith('.gz'))).flatMap((path) => paragraphs(manText(read(path))));
  return [...new Set([...docs, ...man])];
}
