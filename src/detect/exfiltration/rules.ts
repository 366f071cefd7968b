import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { GatewatchError } from '../../errors.js';
import { DETECTORS_DIR } from '../../paths.js';
import { regexSafetyProblem } from '../engine/regex-safety.js';
import { foldPattern, leetView, normalize, scriptOf } from './normalize.js';

// Extraction rules are data: detectors/exfiltration/*.yaml, validated by
// detectors/exfiltration-rule.schema.json, then checked semantically (regexes
// compile and are safe). Files in extra directories add rules or replace
// built-in rules with the same id.

export const BUILTIN_EXFILTRATION_RULES_DIR = join(DETECTORS_DIR, 'exfiltration');
export const EXFILTRATION_RULE_SCHEMA_PATH = join(DETECTORS_DIR, 'exfiltration-rule.schema.json');

export interface RuleFile {
  readonly family: string;
  readonly description: string;
  readonly rules: readonly RawRule[];
}

export interface RawRule {
  readonly id: string;
  readonly lang: string;
  readonly description?: string;
  readonly weight: number;
  readonly keywords: readonly string[];
  readonly alsoKeywords?: readonly string[];
  readonly anchored?: boolean;
  readonly wordStart?: boolean;
  readonly patterns: readonly string[];
  readonly samples: { readonly positive: readonly string[]; readonly negative: readonly string[] };
}

export interface ExtractionRule {
  readonly id: string;
  readonly family: string;
  readonly lang: string;
  readonly weight: number;
  readonly file: string;
  /** Folded keywords; ASCII ones feed the prefilter. */
  readonly keywords: readonly string[];
  /** A second keyword group that must also be present, or empty. */
  readonly alsoKeywords: readonly string[];
  /** Scripts whose presence makes this rule a candidate (rules with non-ASCII keywords). */
  readonly scripts: number;
  /** All patterns as one alternation, flag `g`. */
  readonly regex: RegExp;
  readonly patternCount: number;
  /** Matches start only where a word starts (not right after a letter or digit). */
  readonly wordStart: boolean;
  /** The same, sticky (flag `y`), for anchored rules: tried only at keyword hits. */
  readonly sticky: RegExp | undefined;
  readonly samples: RawRule['samples'];
}

let schemaValidator: ReturnType<Ajv['compile']> | undefined;

function validator(): ReturnType<Ajv['compile']> {
  schemaValidator ??= new Ajv({ allErrors: true, strict: true }).compile(
    JSON.parse(readFileSync(EXFILTRATION_RULE_SCHEMA_PATH, 'utf8')) as object,
  );
  return schemaValidator;
}

function ruleIdAt(data: unknown, instancePath: string): string | undefined {
  const m = /^\/rules\/(\d+)/.exec(instancePath);
  if (!m || !data || typeof data !== 'object') return undefined;
  const rule = (data as { rules?: unknown[] }).rules?.[Number(m[1])];
  return rule && typeof rule === 'object' && typeof (rule as { id?: unknown }).id === 'string' ? (rule as { id: string }).id : undefined;
}

function compileRule(raw: RawRule, family: string, file: string, problems: string[], checkSamples: boolean): ExtractionRule | undefined {
  const sources: string[] = [];
  raw.patterns.forEach((p, i) => {
    const unsafe = regexSafetyProblem(p);
    if (unsafe) problems.push(`${file}: rule ${raw.id}: /patterns/${i}: ${unsafe}`);
    else sources.push(`(?:${foldPattern(p)})`);
  });
  if (sources.length !== raw.patterns.length) return undefined;
  let scripts = 0;
  const keywords = raw.keywords.map((k) => foldPattern(k.toLowerCase()));
  for (const k of keywords) {
    for (const ch of k) scripts |= scriptOf(ch.codePointAt(0)!);
  }
  const source = raw.wordStart ? `(?<![a-z0-9])(?:${sources.join('|')})` : sources.join('|');
  const regex = new RegExp(source, 'g');
  const alsoKeywords = (raw.alsoKeywords ?? []).map((k) => k.toLowerCase());
  if (checkSamples && raw.anchored && alsoKeywords.length > 0) {
    const outside = matchWithoutAlso(regex, alsoKeywords, raw.samples.positive);
    if (outside) {
      problems.push(
        `${file}: rule ${raw.id}: /alsoKeywords: positive sample ${outside.sample + 1} matches ${JSON.stringify(outside.match)}, which holds no word of this group; an anchored rule is tried only where a word of its second group follows within its match, so add the word here or drop the group`,
      );
      return undefined;
    }
  }
  return {
    id: raw.id,
    family,
    lang: raw.lang,
    weight: raw.weight,
    file,
    keywords,
    alsoKeywords,
    scripts,
    regex,
    patternCount: sources.length,
    wordStart: raw.wordStart === true,
    sticky: raw.anchored ? new RegExp(source, 'y') : undefined,
    samples: raw.samples,
  };
}

/** The first match in the normalized (and leetspeak) samples that holds none of `also`, if any. */
function matchWithoutAlso(regex: RegExp, also: readonly string[], samples: readonly string[]): { sample: number; match: string } | undefined {
  for (const [sample, text] of samples.entries()) {
    const normalized = normalize(text).text;
    for (const view of [normalized, leetView(normalized) ?? '']) {
      for (const m of view.matchAll(regex)) {
        if (!also.some((k) => m[0].includes(k))) return { sample, match: m[0] };
      }
    }
  }
  return undefined;
}

/**
 * Loads and checks one rule file. Problems are appended, naming the file, the
 * rule id and the field. `checkSamples` also runs the anchored rules over their
 * positive samples (their second group must lie inside each match).
 */
export function loadRuleFile(path: string, problems: string[], checkSamples = true): ExtractionRule[] {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    problems.push(`${path}: cannot parse: ${(e as Error).message}`);
    return [];
  }
  const check = validator();
  if (!check(data)) {
    for (const e of check.errors ?? []) {
      const id = ruleIdAt(data, e.instancePath);
      problems.push(`${path}: ${id ? `rule ${id}: ` : ''}${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
    }
    return [];
  }
  const file = data as RuleFile;
  const rules: ExtractionRule[] = [];
  for (const raw of file.rules) {
    const rule = compileRule(raw, file.family, path, problems, checkSamples);
    if (rule) rules.push(rule);
  }
  return rules;
}

function ruleFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new GatewatchError('GW_ERR_RULE_INVALID', `exfiltration rule directory not found: ${dir}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * All extraction rules: built-in first, then each extra directory in order
 * (same id replaces). Throws GW_ERR_RULE_INVALID listing every problem.
 * `checkShippedSamples: false` skips the sample check of the rules shipped in
 * BUILTIN_EXFILTRATION_RULES_DIR (`gatewatch rules test` and the test suite
 * run it): it compiles and runs every anchored rule's regex, several MB a
 * process, and the shipped rules cannot change after the build.
 */
export function loadExtractionRules(
  extraDirs: readonly string[] = [],
  builtinDir = BUILTIN_EXFILTRATION_RULES_DIR,
  { checkShippedSamples = true }: { checkShippedSamples?: boolean } = {},
): ExtractionRule[] {
  const problems: string[] = [];
  const byId = new Map<string, ExtractionRule>();
  const dirs = [builtinDir, ...extraDirs];
  dirs.forEach((dir, d) => {
    const seen = new Set<string>();
    const checkSamples = checkShippedSamples || dir !== BUILTIN_EXFILTRATION_RULES_DIR;
    for (const path of ruleFiles(dir)) {
      for (const rule of loadRuleFile(path, problems, checkSamples)) {
        if (seen.has(rule.id) || (d === 0 && byId.has(rule.id))) problems.push(`${path}: rule ${rule.id}: /id: duplicate rule id`);
        seen.add(rule.id);
        byId.set(rule.id, rule);
      }
    }
  });
  if (problems.length > 0) throw new GatewatchError('GW_ERR_RULE_INVALID', 'invalid exfiltration rules', problems);
  return Object.freeze([...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) as ExtractionRule[];
}
