import { writeFileSync } from 'node:fs';
import { loadPublicSets } from '../bench/public-sets/load.js';
import { readExfiltrationCorpus } from '../bench/exfiltration-corpus.js';
import { systemDocParagraphs } from '../bench/system-docs.js';
import { mulberry32 } from '../src/random.js';
import { PROMPT_MODEL_PATH, promptFeatures, PromptModel, scaledSum, sigmoid, slotScale, type PromptModelFile } from '../src/detect/exfiltration/prompt-model.js';

// Trains the prompt model (src/detect/exfiltration/prompt-model.ts) and
// writes detectors/exfiltration/model/prompt-attack.json. Deterministic for
// the same inputs: a seeded shuffle and a fixed schedule.
//
// Attacks: the team corpus, the public-style sets, and the public sets the
// bench marks "model trained on it" (even positions of the large ones).
// Benign: the team corpus, the public-style sets, those public sets, and one
// paragraph in twelve of this machine's documentation (bench/system-docs).
// The public-style sets written after the model (FRESH_SETS) are left out.
// The odd positions of the public sets are held out; the file records how
// the model did on them.
//
//   bash bench/public-sets/fetch.sh && npx tsc -p tsconfig.json && node dist/scripts/train-prompt-model.js

const BITS = 14;
const EPOCHS = 12;
const LEARNING_RATE = 0.5;
const L2 = 1e-6;
const SEED = 5;
const DOC_SHARE = 1 / 12;
/**
 * Attacks are the rarer class (about one in sixteen prompts here) and count
 * four times a benign prompt: weighting them up to balance the classes found
 * a few more held-out jailbreaks but flagged twice as many role-play prompts.
 */
const ATTACK_WEIGHT = 4;
/**
 * Where the model counts beside another sign, and alone. These, the attack
 * weight and the table size were picked among a few variants by their
 * results on the held-out halves (bench/RESULTS.md), which makes those
 * results a little optimistic.
 */
const BESIDE = 0.95;
const ALONE = 0.98;

interface Labeled {
  id?: string;
  text: string;
  label?: string;
}

/** Public-style sets written after this model was trained, to measure it fresh: never trained on. */
const FRESH_SETS = /^pub-h15-/;

const corpus = (name: string): Labeled[] => readExfiltrationCorpus<Labeled>(name);

const attacks: string[] = [];
const benign: string[] = [];
const counts: Record<string, number> = {};
const add = (source: string, texts: string[], into: string[]) => {
  into.push(...texts);
  counts[source] = texts.length;
};
add('team attacks', corpus('attacks.jsonl').map((s) => s.text), attacks);
add('team benign', corpus('benign.jsonl').map((s) => s.text), benign);
const publicStyle = corpus('public-style.jsonl').filter((s) => !FRESH_SETS.test(s.id ?? ''));
add('public-style attacks', publicStyle.filter((s) => s.label === 'attack').map((s) => s.text), attacks);
add('public-style benign', publicStyle.filter((s) => s.label === 'benign').map((s) => s.text), benign);
const sets = loadPublicSets();
for (const set of sets) if (set.trainedModel) add(set.name, set.texts, set.label === 'attack' ? attacks : benign);
const rand = mulberry32(SEED);
add('documentation paragraphs (one in twelve)', systemDocParagraphs().filter(() => rand() < DOC_SHARE), benign);

const examples = [...attacks.map((t) => ({ x: promptFeatures(t, BITS), y: 1 })), ...benign.map((t) => ({ x: promptFeatures(t, BITS), y: 0 }))];
const w = new Float64Array(1 << BITS);
let bias = 0;
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  for (let i = examples.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [examples[i], examples[j]] = [examples[j]!, examples[i]!];
  }
  const rate = LEARNING_RATE / (1 + epoch);
  for (const { x, y } of examples) {
    const scale = slotScale(x.length);
    let sum = 0;
    for (const s of x) sum += w[s]!;
    const p = sigmoid(bias + scaledSum(sum, x.length));
    const g = (p - y) * (y === 1 ? ATTACK_WEIGHT : 1);
    for (const s of x) w[s]! -= rate * (g * scale + L2 * w[s]!);
    bias -= rate * g * 0.1;
  }
}

let largest = 0;
for (const v of w) largest = Math.max(largest, Math.abs(v));
const scale = largest / 127;
const quantized = Int8Array.from(w, (v) => Math.round(v / scale));
const file: PromptModelFile = {
  format: 1,
  bits: BITS,
  bias,
  scale,
  weights: Buffer.from(quantized.buffer).toString('base64'),
  beside: BESIDE,
  alone: ALONE,
  trainedOn: { prompts: counts, attacks: attacks.length, benign: benign.length, attackWeight: ATTACK_WEIGHT, epochs: EPOCHS, learningRate: LEARNING_RATE, l2: L2, seed: SEED },
};
const model = new PromptModel(file);
const heldOut: Record<string, string> = {};
for (const set of sets) {
  if (set.trainedModel) continue;
  const p = set.texts.map((t) => model.probability(t));
  heldOut[set.name] = `${set.label}: ${p.filter((v) => v >= ALONE).length} alone, ${p.filter((v) => v >= BESIDE).length} beside, of ${set.texts.length}`;
}
(file.trainedOn as Record<string, unknown>).heldOut = heldOut;
writeFileSync(PROMPT_MODEL_PATH, JSON.stringify(file, null, 1) + '\n');
process.stdout.write(`${attacks.length} attacks, ${benign.length} benign prompts; written to ${PROMPT_MODEL_PATH}\n${JSON.stringify(heldOut, null, 1)}\n`);
