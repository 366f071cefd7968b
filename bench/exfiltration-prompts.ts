import { mulberry32 } from '../src/random.js';
import { dependencyReadmeParagraphs } from './dependency-readmes.js';
import { readExfiltrationCorpus } from './exfiltration-corpus.js';

// The 4 KB prompts the exfiltration speed benchmarks time: seeded draws from
// the labeled corpus and the dependencies' READMEs, so every run and every
// build times the same text.

export const PROMPT = 4096;
const lines = (file: string) => readExfiltrationCorpus<{ text: string; lang?: string; family?: string }>(file);

/** `count` prompts of texts drawn at random (seeded), each cut to PROMPT chars. */
function prompts(texts: readonly string[], count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  const out: string[] = [];
  while (out.length < count) {
    let p = '';
    while (p.length < PROMPT) p += texts[Math.floor(rand() * texts.length)] + '\n';
    out.push(p.slice(0, PROMPT));
  }
  return out;
}

/** The five kinds of prompt, `count` of each, by name. */
export function promptSets(count: number): [string, string[]][] {
  const benignLines = lines('benign.jsonl');
  const benignTexts = benignLines.map((l) => l.text);
  const ordinaryTexts = benignLines.filter((l) => l.family === 'document' || l.family === 'coding' || l.family === 'question').map((l) => l.text);
  const attackTexts = lines('attacks.jsonl').map((l) => l.text);
  const i18nTexts = benignLines.filter((l) => l.lang !== 'en').map((l) => l.text);
  return [
    ['real-world docs (dependency READMEs)', prompts(dependencyReadmeParagraphs(), count, 5)],
    ['ordinary (documents, code, questions)', prompts(ordinaryTexts, count, 4)],
    ['keyword-dense benign (all kinds, incl. talk about injection)', prompts(benignTexts, count, 1)],
    ['benign + 1 attack', prompts(benignTexts, count, 2).map((p, k) => (attackTexts[k % attackTexts.length] + '\n' + p).slice(0, PROMPT))],
    ['non-English benign', prompts(i18nTexts, count, 3)],
  ];
}
