import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeExchange } from '../src/exchange.js';
import { createFingerprinter } from '../src/fingerprint.js';
import { DEFAULT_CREDENTIALS_CONFIG } from '../src/detect/credentials/config.js';
import { createCredentialDetectors, loadCredentialRules } from '../src/detect/credentials/index.js';
import { PROJECT_ROOT } from '../src/paths.js';
import type { Finding } from '../src/types.js';

// Recall and false positives of the credential rule pack on the labeled
// corpus (test/corpus/credentials), per rule family, as a markdown table.
//
//   npx tsc -p tsconfig.json && node dist/bench/credentials-quality.js

interface Positive { id: string; rule: string; text: string; start: number; end: number }
interface Negative { id: string; kind: string; text: string }

const dir = join(PROJECT_ROOT, 'test', 'corpus', 'credentials');
const readJsonl = <T>(file: string): T[] =>
  readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);

export interface QualityReport {
  readonly families: { family: string; positives: number; found: number; exactRule: number }[];
  readonly negatives: { kind: string; lines: number; flagged: number }[];
  readonly missed: string[];
  readonly falsePositives: { id: string; detector: string }[];
}

export function measureQuality(): QualityReport {
  const pack = loadCredentialRules();
  const familyOf = new Map(pack.rules.map((r) => [r.id, r.family]));
  // Correlation and liveness state carry across lines but only change summaries and severities, not what is found.
  const detectors = createCredentialDetectors({ fingerprint: createFingerprinter('bench-quality'), config: DEFAULT_CREDENTIALS_CONFIG, pack });
  const detect = (text: string): Finding[] => {
    const ex = makeExchange({ prompt: [{ path: 'text', role: 'user', text }] });
    return detectors.flatMap((d) => d.detect(ex, { now: 0 }) as Finding[]);
  };

  const families = new Map<string, { positives: number; found: number; exactRule: number }>();
  const missed: string[] = [];
  for (const p of readJsonl<Positive>('positives.jsonl')) {
    const family = familyOf.get(p.rule) ?? 'unknown';
    const row = families.get(family) ?? { positives: 0, found: 0, exactRule: 0 };
    families.set(family, row);
    row.positives++;
    const hits = detect(p.text).filter((f) => (f.location?.start ?? -1) < p.end && (f.location?.end ?? -1) > p.start);
    if (hits.length > 0) row.found++;
    else missed.push(p.id);
    if (hits.some((f) => f.detector === `credential.${p.rule}`)) row.exactRule++;
  }

  const kinds = new Map<string, { lines: number; flagged: number }>();
  const falsePositives: { id: string; detector: string }[] = [];
  for (const n of readJsonl<Negative>('negatives.jsonl')) {
    const row = kinds.get(n.kind) ?? { lines: 0, flagged: 0 };
    kinds.set(n.kind, row);
    row.lines++;
    const hits = detect(n.text);
    if (hits.length > 0) {
      row.flagged++;
      falsePositives.push({ id: n.id, detector: hits[0]!.detector });
    }
  }
  return {
    families: [...families].map(([family, r]) => ({ family, ...r })).sort((a, b) => a.family.localeCompare(b.family)),
    negatives: [...kinds].map(([kind, r]) => ({ kind, ...r })),
    missed,
    falsePositives,
  };
}

const pct = (a: number, b: number) => (b === 0 ? '—' : `${((100 * a) / b).toFixed(2)}%`);

export function formatQuality(r: QualityReport): string {
  const lines = ['| family | positives | found | recall | exact rule |', '|---|---:|---:|---:|---:|'];
  let P = 0;
  let F = 0;
  let E = 0;
  for (const f of r.families) {
    lines.push(`| ${f.family} | ${f.positives} | ${f.found} | ${pct(f.found, f.positives)} | ${pct(f.exactRule, f.positives)} |`);
    P += f.positives;
    F += f.found;
    E += f.exactRule;
  }
  lines.push(`| **all** | ${P} | ${F} | **${pct(F, P)}** | ${pct(E, P)} |`, '', '| negatives | lines | flagged | false-positive rate |', '|---|---:|---:|---:|');
  let N = 0;
  let FP = 0;
  for (const n of r.negatives) {
    lines.push(`| ${n.kind} | ${n.lines} | ${n.flagged} | ${pct(n.flagged, n.lines)} |`);
    N += n.lines;
    FP += n.flagged;
  }
  lines.push(`| **all** | ${N} | ${FP} | **${pct(FP, N)}** |`);
  if (r.missed.length > 0) lines.push('', `missed: ${r.missed.slice(0, 30).join(', ')}${r.missed.length > 30 ? ' …' : ''}`);
  if (r.falsePositives.length > 0) lines.push('', `false positives: ${r.falsePositives.slice(0, 30).map((f) => `${f.id} (${f.detector})`).join(', ')}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('credentials-quality.js')) process.stdout.write(`${formatQuality(measureQuality())}\n`);
