import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../src/paths.js';

// Generates docs/configuration.md from the JSON Schemas of the config, so the
// reference cannot drift from what the validator accepts. `--check` exits 1
// when the committed file is stale (test/demo/docs.test.ts does the same).

type Schema = {
  $id?: string;
  $ref?: string;
  title?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  definitions?: Record<string, Schema>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
};

export const CONFIG_DOCS_PATH = join(PROJECT_ROOT, 'docs', 'configuration.md');

/** The config schema first, then the section schemas it $refs, by $id. */
export const CONFIG_SCHEMA_FILES: readonly string[] = [
  'src/config/schema.json',
  'src/detect/credentials/config.schema.json',
  'src/detect/exfiltration/config.schema.json',
  'src/detect/anomaly/config.schema.json',
  'src/state/config.schema.json',
  'src/alerts/config.schema.json',
];

interface Row {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

function load(file: string): Schema {
  return JSON.parse(readFileSync(join(PROJECT_ROOT, file), 'utf8')) as Schema;
}

function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function sentence(text: string): string {
  return text === '' || /[.!?)]$/.test(text) ? text : `${text}.`;
}

function code(value: unknown): string {
  return `\`${JSON.stringify(value)}\``;
}

/** Resolves a local `#/definitions/x` ref, keeping the referring schema's own keywords (e.g. its default). */
function deref(schema: Schema, root: Schema): Schema {
  if (!schema.$ref?.startsWith('#/definitions/')) return schema;
  const target = root.definitions?.[schema.$ref.slice('#/definitions/'.length)];
  if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
  const { $ref: _ignored, ...own } = schema;
  return { ...deref(target, root), ...own };
}

function typeOf(s: Schema, root: Schema): string {
  if (s.enum) return s.enum.map((v) => code(v)).join(' | ');
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  let base = types.join(' | ') || 'any';
  if (types.includes('array') && s.items) {
    const items = deref(s.items, root);
    base = base.replace('array', items.properties ? 'list of objects' : `list of ${typeOf(items, root)}`);
  }
  if (types.includes('object') && !s.properties && typeof s.additionalProperties === 'object') {
    const values = deref(s.additionalProperties, root);
    base = values.properties ? 'map of objects' : `map of ${typeOf(values, root)}`;
  }
  const limits: string[] = [];
  if (s.minimum !== undefined) limits.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) limits.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) limits.push(`≤ ${s.maximum}`);
  if (s.format) limits.push(s.format);
  return limits.length > 0 ? `${base} (${limits.join(', ')})` : base;
}

function rows(schema: Schema, root: Schema, prefix: string): Row[] {
  const out: Row[] = [];
  for (const [name, raw] of Object.entries(schema.properties ?? {})) {
    const s = deref(raw, root);
    const path = `${prefix}${name}`;
    if (s.properties && !s.$ref) {
      if (s.description) out.push({ path, type: 'object', default: '', description: s.description });
      out.push(...rows(s, root, `${path}.`));
      continue;
    }
    out.push({
      path,
      type: typeOf(s, root),
      default: s.default === undefined || (typeof s.default === 'object' && s.default !== null && !Array.isArray(s.default) && Object.keys(s.default).length === 0) ? '' : code(s.default),
      description: [sentence(s.description ?? ''), s.pattern ? `Pattern: \`${s.pattern}\`.` : ''].filter(Boolean).join(' '),
    });
    const items = s.items ? deref(s.items, root) : undefined;
    if (items?.properties) out.push(...rows(items, root, `${path}[].`));
    const values = typeof s.additionalProperties === 'object' ? deref(s.additionalProperties, root) : undefined;
    if (values?.properties) out.push(...rows(values, root, `${path}.<name>.`));
  }
  return out;
}

function table(list: readonly Row[]): string {
  const lines = ['| Setting | Type | Default | Description |', '| --- | --- | --- | --- |'];
  for (const r of list) lines.push(`| \`${r.path}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`);
  return lines.join('\n');
}

export function renderConfigDocs(): string {
  const [main, ...sectionFiles] = CONFIG_SCHEMA_FILES;
  const root = load(main!);
  const byId = new Map(sectionFiles.map((f) => [load(f).$id!, { file: f, schema: load(f) }]));
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated by scripts/gen-config-docs.ts from the JSON Schemas; do not edit by hand.',
    '     Regenerate: npm run build && node dist/scripts/gen-config-docs.js -->',
    '',
    root.description ?? '',
    '',
    'The file is YAML or JSON (`gatewatch run --config FILE` or `GATEWATCH_CONFIG`). Every setting is',
    'optional; unknown settings are errors that name the file and the field. Source schemas:',
    ...CONFIG_SCHEMA_FILES.map((f) => `\`${f}\``).join(', ').split('\n'),
    '',
    '## Top level',
    '',
  ];
  const top: Row[] = [];
  const sections: string[] = [];
  for (const [name, raw] of Object.entries(root.properties ?? {})) {
    if (raw.$ref && byId.has(raw.$ref)) {
      const { file, schema } = byId.get(raw.$ref)!;
      sections.push(`## \`${name}\` — ${schema.title ?? name}`, '', `Schema: \`${file}\`.${schema.description ? ` ${schema.description}` : ''}`, '', table(rows(schema, schema, `${name}.`)), '');
      continue;
    }
    const s = deref(raw, root);
    if (s.properties) {
      sections.push(`## \`${name}\``, '', ...(s.description ? [s.description, ''] : []), table(rows(s, root, `${name}.`)), '');
      continue;
    }
    top.push(...rows({ properties: { [name]: raw } }, root, ''));
  }
  out.push(table(top), '', ...sections);
  return `${out.join('\n').trimEnd()}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = renderConfigDocs();
  if (process.argv.includes('--check')) {
    const current = readFileSync(CONFIG_DOCS_PATH, 'utf8');
    if (current !== text) {
      process.stderr.write(`${CONFIG_DOCS_PATH} is out of date: run node dist/scripts/gen-config-docs.js\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(CONFIG_DOCS_PATH, text);
    process.stdout.write(`wrote ${CONFIG_DOCS_PATH}\n`);
  }
}
