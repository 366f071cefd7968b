import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { PROJECT_ROOT } from '../paths.js';

// One ajv instance for the config and every section schema. Section schemas
// live next to the code that owns the section and are referenced by $id.

const SECTION_SCHEMAS = [
  'src/detect/credentials/config.schema.json',
  'src/detect/exfiltration/config.schema.json',
  'src/detect/anomaly/config.schema.json',
  'src/state/config.schema.json',
  'src/alerts/config.schema.json',
];

function readSchema(relative: string): object {
  return JSON.parse(readFileSync(join(PROJECT_ROOT, relative), 'utf8')) as object;
}

let compiled: ValidateFunction | undefined;

export function configValidator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  for (const file of SECTION_SCHEMAS) ajv.addSchema(readSchema(file));
  compiled = ajv.compile(readSchema('src/config/schema.json'));
  return compiled;
}

/** Turns ajv errors into lines that name the field and say what would fix it. */
export function describeErrors(source: string, errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const field = e.instancePath === '' ? '/' : e.instancePath;
    return `${source}: ${field}: ${explain(e)}`;
  });
}

function explain(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field "${String(p.additionalProperty)}" — remove it or check its spelling`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `must be ${String(p.type)}`;
    case 'required':
      return `missing required field "${String(p.missingProperty)}"`;
    case 'pattern':
      return `${e.message ?? 'does not match'} (e.g. ${patternExample(String(p.pattern))})`;
    default:
      return e.message ?? e.keyword;
  }
}

function patternExample(pattern: string): string {
  if (pattern.includes('http|https')) return 'http://127.0.0.1:4000';
  if (pattern.startsWith('^/')) return '/openai';
  if (pattern.includes('[0-9]{1,5}')) return '127.0.0.1:8080';
  return pattern;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function isDateTime(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}
