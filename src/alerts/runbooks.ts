import { compileIdPattern, detectorFamily, type IdMatcher } from './match.js';

// Runbook links per detector: an explicit entry (exact id or prefix*, the
// longest pattern wins) or `<base>#<detector family>`.

export const DEFAULT_RUNBOOK_BASE = 'docs/runbooks.md';

export function defaultRunbook(detector: string, base = DEFAULT_RUNBOOK_BASE): string {
  return `${base}#${detectorFamily(detector)}`;
}

export type RunbookResolver = (detector: string) => string;

export function createRunbookResolver(base: string, overrides: Readonly<Record<string, string>>): RunbookResolver {
  const entries: Array<{ match: IdMatcher; url: string }> = Object.entries(overrides)
    .sort(([a], [b]) => b.length - a.length)
    .map(([pattern, url]) => ({ match: compileIdPattern(pattern), url }));
  return (detector) => entries.find((e) => e.match(detector))?.url ?? defaultRunbook(detector, base);
}
