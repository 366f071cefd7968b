import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { GatewatchError } from '../../errors.js';
import { PROJECT_ROOT } from '../../paths.js';
import { normalize } from './normalize.js';
import { PromptFeatures } from './prompt-features.js';

// A learned second opinion beside the phrase rules: logistic regression over
// the words and word pairs of a prompt (after the rules' normalization, so
// obfuscation costs it nothing), hashed into a fixed table of weights.
// Phrase rules need the exact wording of each family; a jailbreak's
// vocabulary (personas without limits, staying in character, the vendor's
// policies, two answers at once) carries over to wordings no rule lists.
// The model is trained by scripts/train-prompt-model.ts on the team corpus
// and on public sets (see there); its file holds the weights, int8, and the
// probabilities at which it counts beside another sign or alone.

export const PROMPT_MODEL_PATH = join(PROJECT_ROOT, 'detectors', 'exfiltration', 'model', 'prompt-attack.json');
export const PROMPT_MODEL_SCHEMA_PATH = join(PROJECT_ROOT, 'detectors', 'exfiltration-model.schema.json');

export interface PromptModelFile {
  readonly format: 1;
  /** log2 of the number of weights. */
  readonly bits: number;
  readonly bias: number;
  /** A weight is its int8 value times this. */
  readonly scale: number;
  /** Base64 of 2^bits signed bytes. */
  readonly weights: string;
  /** Probability from which the model counts as a weak sign (0.5), beside another one. */
  readonly beside: number;
  /** Probability from which it counts on its own (1.0). */
  readonly alone: number;
  readonly trainedOn?: Record<string, unknown>;
}

let featureScanner: PromptFeatures | undefined;

/** The distinct feature slots of a prompt, after the extraction rules' normalization (see prompt-features.ts): what the trainer reads. */
export function promptFeatures(text: string, bits: number): Int32Array {
  const scanner = featureScanner?.bits === bits ? featureScanner : (featureScanner = new PromptFeatures(bits));
  let slots: Int32Array = new Int32Array(0);
  normalize(text, (units, length) => (slots = scanner.slots(scanner.scan(units, length, true).count)));
  return slots;
}

/** Texts with fewer features than this weigh as if they had this many: a few words are weak evidence. */
const MIN_NORM_FEATURES = 32;

/** sqrt(count), never below sqrt(MIN_NORM_FEATURES): what a text's summed weight is divided by. */
const normOf = (count: number): number => Math.sqrt(Math.max(count, MIN_NORM_FEATURES));

/**
 * The factor on each slot's weight in the logit: 1/sqrt(count), so long
 * texts are not favoured, and no more than 1/sqrt(MIN_NORM_FEATURES), so
 * short ones are not either.
 */
export function slotScale(count: number): number {
  return 1 / normOf(count);
}

/** The slots' summed weight as the logit takes it: divided by the same root (what the trainer computes). */
export function scaledSum(sum: number, count: number): number {
  return sum / normOf(count);
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export class PromptModel {
  private readonly features: PromptFeatures;
  readonly bits: number;
  readonly beside: number;
  readonly alone: number;

  /** `bytes`: the file's weights already decoded, when the caller has them. */
  constructor(
    private readonly file: PromptModelFile,
    bytes: Buffer = Buffer.from(file.weights, 'base64'),
  ) {
    this.bits = file.bits;
    this.beside = file.beside;
    this.alone = file.alone;
    this.features = new PromptFeatures(file.bits, new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  /** The probability that a prompt is an attack. */
  probability(text: string): number {
    let p = 0;
    normalize(text, (units, length) => (p = this.probabilityOfUnits(units, length)));
    return p;
  }

  /** The same for text already normalized, as the extraction matcher hands it over. */
  probabilityOfUnits(units: Uint16Array, length: number): number {
    const { sum, count } = this.features.scan(units, length);
    return sigmoid(sum * slotScale(count) * this.file.scale + this.file.bias);
  }

  /** What the model adds to a part's score: 1 alone, 0.5 beside another sign, else 0. */
  weightOf(probability: number): number {
    return probability >= this.alone ? 1 : probability >= this.beside ? 0.5 : 0;
  }
}

let validate: ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null } | undefined;

/** Reads and checks a model file. Throws GW_ERR_RULE_INVALID naming the file, the field and what is expected. */
export function loadPromptModel(path: string = PROMPT_MODEL_PATH): PromptModel {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GatewatchError('GW_ERR_RULE_INVALID', `cannot read the prompt model ${path}`, [(err as Error).message]);
  }
  validate ??= new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(PROMPT_MODEL_SCHEMA_PATH, 'utf8')) as object);
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => `${path}: ${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
    throw new GatewatchError('GW_ERR_RULE_INVALID', 'invalid prompt model', problems);
  }
  const file = raw as PromptModelFile;
  const weights = Buffer.from(file.weights, 'base64');
  const length = weights.length;
  if (length !== 1 << file.bits) {
    throw new GatewatchError('GW_ERR_RULE_INVALID', 'invalid prompt model', [`${path}: /weights: holds ${length} bytes, expected 2^bits = ${1 << file.bits}`]);
  }
  if (file.beside > file.alone) {
    throw new GatewatchError('GW_ERR_RULE_INVALID', 'invalid prompt model', [`${path}: /beside: ${file.beside} is above /alone ${file.alone}; the weak threshold must not exceed the strong one`]);
  }
  return new PromptModel(file, weights);
}
