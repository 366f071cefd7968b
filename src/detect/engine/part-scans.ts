import type { SecretMatch, SecretScanner } from './scanner.js';

// The secret scan of one prompt part, made once per exchange and shared by
// the detectors that need it (credential content, bulk data). Results are
// keyed weakly by the part object, so they go when the exchange goes: no
// text is kept here.

export interface PartScans {
  readonly scanner: SecretScanner;
  scan(part: { readonly text: string }): readonly SecretMatch[];
}

export function createPartScans(scanner: SecretScanner): PartScans {
  const memo = new WeakMap<object, readonly SecretMatch[]>();
  return {
    scanner,
    scan(part) {
      let matches = memo.get(part);
      if (matches === undefined) memo.set(part, (matches = scanner.scan(part.text)));
      return matches;
    },
  };
}
