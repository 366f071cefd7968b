import { DEFAULT_EXFILTRATION_CONFIG } from '../src/detect/exfiltration/config.js';
import { EchoTracker } from '../src/detect/exfiltration/echo.js';
import { dependencyReadmeParagraphs } from './dependency-readmes.js';
import { readExfiltrationCorpus } from './exfiltration-corpus.js';
import { flagged, pct } from './extraction-flagged.js';
import { systemDocParagraphs } from './system-docs.js';

// Detection and false-positive rates of the exfiltration detectors on the
// labeled corpus in test/corpus/exfiltration (regenerate it with
// generate.js), the public-style sets and real documentation. Prints markdown
// tables; `--show-misses` lists the misses.
//
//   node dist/bench/exfiltration-quality.js [--show-misses]


interface Sample {
  id: string;
  text: string;
  role: 'user' | 'tool';
  label: 'attack' | 'benign';
  family: string;
  obfuscation: string;
  lang: string;
}

interface EchoCase {
  id: string;
  system: string;
  completion: string;
  leak: boolean;
  streamed: boolean;
}


const showMisses = process.argv.includes('--show-misses');

const attacks = readExfiltrationCorpus<Sample>('attacks.jsonl');
const benign = readExfiltrationCorpus<Sample>('benign.jsonl');
const byFamily = new Map<string, [number, number]>();
const byObf = new Map<string, [number, number]>();
let hit = 0;
for (const s of attacks) {
  const ok = flagged(s.text, s.role);
  if (ok) hit++;
  else if (showMisses) process.stdout.write(`MISS ${s.id} [${s.family}/${s.obfuscation}/${s.lang}] ${JSON.stringify(s.text).slice(0, 200)}\n`);
  for (const [map, key] of [[byFamily, s.family], [byObf, s.obfuscation]] as const) {
    const c = map.get(key) ?? [0, 0];
    c[0] += ok ? 1 : 0;
    c[1]++;
    map.set(key, c);
  }
}
let fp = 0;
const fpByFamily = new Map<string, [number, number]>();
for (const s of benign) {
  const bad = flagged(s.text, s.role);
  if (bad) {
    fp++;
    if (showMisses) process.stdout.write(`FP ${s.id} [${s.family}] ${JSON.stringify(s.text).slice(0, 200)}\n`);
  }
  const c = fpByFamily.get(s.family) ?? [0, 0];
  c[0] += bad ? 1 : 0;
  c[1]++;
  fpByFamily.set(s.family, c);
}

/** How many of these real-world paragraphs (nobody wrote them for the set) are flagged. */
function flaggedParagraphs(texts: readonly string[], source: string): number {
  let n = 0;
  for (const text of texts) {
    if (flagged(text)) {
      n++;
      if (showMisses) process.stdout.write(`FP ${source} ${JSON.stringify(text).slice(0, 200)}\n`);
    }
  }
  return n;
}

const paragraphs = dependencyReadmeParagraphs().filter((p) => p.length >= 40);
const readmeFp = flaggedParagraphs(paragraphs, 'readme');
const docs = systemDocParagraphs();
const docsFp = flaggedParagraphs(docs, 'system-docs');

// Echo: streamed cases arrive in random-sized chunks (seeded), the rest whole.
const echo = readExfiltrationCorpus<EchoCase>('echo.jsonl');
let seed = 7;
const next = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 97) + 1;
const echoStats = { leak: [0, 0], clean: [0, 0], streamed: [0, 0], whole: [0, 0] };
for (const c of echo) {
  const tracker = new EchoTracker([c.system], DEFAULT_EXFILTRATION_CONFIG.echo);
  if (c.streamed) for (let i = 0; i < c.completion.length; ) tracker.push(c.completion.slice(i, (i += next())));
  else tracker.push(c.completion);
  tracker.endPart();
  const echoed = tracker.result().echoed;
  const bucket = c.leak ? echoStats.leak : echoStats.clean;
  bucket[0]! += echoed ? 1 : 0;
  bucket[1]!++;
  if (c.leak) {
    const mode = c.streamed ? echoStats.streamed : echoStats.whole;
    mode[0]! += echoed ? 1 : 0;
    mode[1]!++;
  }
  if (showMisses && echoed !== c.leak) process.stdout.write(`ECHO-${c.leak ? 'MISS' : 'FP'} ${c.id}\n`);
}

const lines: string[] = [];
lines.push('| set | items | flagged | rate | target |', '|---|---:|---:|---:|---|');
lines.push(`| attack prompts | ${attacks.length} | ${hit} | ${pct(hit, attacks.length)} | ≥ 90% |`);
lines.push(`| benign prompts | ${benign.length} | ${fp} | ${pct(fp, benign.length)} | ≤ 0.5% |`);
lines.push(`| README paragraphs of the dependencies (real-world, not written for this set) | ${paragraphs.length} | ${readmeFp} | ${pct(readmeFp, paragraphs.length)} | ≤ 0.5% |`);
lines.push(`| paragraphs of this machine's documentation (/usr/share/doc, man pages 1, 5, 8) | ${docs.length} | ${docsFp} | ${pct(docsFp, docs.length)} | ≤ 0.5% |`);
lines.push(`| echo: completions leaking ≥ 30% of the system prompt | ${echoStats.leak[1]} | ${echoStats.leak[0]} | ${pct(echoStats.leak[0]!, echoStats.leak[1]!)} | ≥ 95% |`);
lines.push(`| echo: … of which streamed in chunks | ${echoStats.streamed[1]} | ${echoStats.streamed[0]} | ${pct(echoStats.streamed[0]!, echoStats.streamed[1]!)} | |`);
lines.push(`| echo: clean completions | ${echoStats.clean[1]} | ${echoStats.clean[0]} | ${pct(echoStats.clean[0]!, echoStats.clean[1]!)} | ≤ 0.5% |`);
lines.push('', '| attack family | detected |', '|---|---:|');
for (const [k, [a, n]] of [...byFamily].sort()) lines.push(`| ${k} | ${a}/${n} (${pct(a, n)}) |`);
lines.push('', '| obfuscation | detected |', '|---|---:|');
for (const [k, [a, n]] of [...byObf].sort()) lines.push(`| ${k} | ${a}/${n} (${pct(a, n)}) |`);
lines.push('', '| benign kind | false positives |', '|---|---:|');
for (const [k, [a, n]] of [...fpByFamily].sort()) lines.push(`| ${k} | ${a}/${n} (${pct(a, n)}) |`);
// The public-style sets (written in the style of public ones; see RESULTS), one row each by id prefix.
const publicStyle = readExfiltrationCorpus<{ id: string; text: string; label: 'attack' | 'benign' }>('public-style.jsonl');
const bySet = new Map<string, { attacks: number; found: number; benign: number; flagged: number }>();
for (const p of publicStyle) {
  const set = p.id.replace(/-\d+$/, '');
  const c = bySet.get(set) ?? { attacks: 0, found: 0, benign: 0, flagged: 0 };
  const hit = flagged(p.text);
  if (p.label === 'attack') {
    c.attacks++;
    c.found += hit ? 1 : 0;
  } else {
    c.benign++;
    c.flagged += hit ? 1 : 0;
  }
  bySet.set(set, c);
}
lines.push('', '| public-style set | attacks found | benign flagged |', '|---|---:|---:|');
for (const [set, c] of bySet) lines.push(`| ${set} | ${c.found}/${c.attacks} (${pct(c.found, c.attacks)}) | ${c.flagged}/${c.benign} |`);
process.stdout.write(lines.join('\n') + '\n');
