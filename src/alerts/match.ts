// Detector ids are free-form dotted strings (`credential.openai-project-key`).
// Routing, silences, inhibition and runbooks name them exactly or by prefix
// (`credential.*`; `*` alone matches every detector). Patterns are compiled
// once into a predicate.

export type IdMatcher = (detector: string) => boolean;

export function compileIdPattern(pattern: string): IdMatcher {
  if (pattern === '*') return () => true;
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return (id) => id.startsWith(prefix);
  }
  return (id) => id === pattern;
}

/** Matches when any pattern matches; an empty list matches everything when `emptyMatchesAll`. */
export function compileIdPatterns(patterns: readonly string[], emptyMatchesAll: boolean): IdMatcher {
  if (patterns.length === 0) return () => emptyMatchesAll;
  const matchers = patterns.map(compileIdPattern);
  return (id) => matchers.some((m) => m(id));
}

/** The family of a detector id: its first dotted segment (`credential`, `anomaly`, `exfiltration`). */
export function detectorFamily(detector: string): string {
  const dot = detector.indexOf('.');
  return (dot === -1 ? detector : detector.slice(0, dot)).toLowerCase().replace(/[^a-z0-9-]/g, '-');
}
