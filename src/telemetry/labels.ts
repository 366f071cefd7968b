// Bounded metric labels: free-form values (model, route) pass only while they
// are few and look like names, never like keys.

/** Lets the first `max` distinct values of a label through, then maps the rest to `other`. */
export class LabelLimiter {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  limit(value: string | undefined): string {
    if (value === undefined || value === '') return 'none';
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return 'other';
    if (value.length > 64 || !/^[\w.:\/@+-]+$/.test(value) || looksRandom(value)) return 'other';
    this.seen.add(value);
    return value;
  }
}

const charClass = (c: number): number => (c >= 97 && c <= 122 ? 0 : c >= 65 && c <= 90 ? 1 : c >= 48 && c <= 57 ? 2 : 3);

/**
 * Model and route names are words broken up by dashes, dots and slashes;
 * keys are long runs that flip between cases and digits. A label value that
 * looks like a key is never exported.
 */
export function looksRandom(value: string): boolean {
  for (const segment of value.split(/[^A-Za-z0-9]+/)) {
    if (segment.length >= 20) return true;
    if (segment.length < 8) continue;
    let flips = 0;
    for (let i = 1; i < segment.length; i++) if (charClass(segment.charCodeAt(i)) !== charClass(segment.charCodeAt(i - 1))) flips++;
    if (flips >= 5) return true;
  }
  return false;
}
