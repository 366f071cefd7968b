import { shannonEntropy } from '../engine/entropy.js';
import { containsPii } from './pii.js';

// An excerpt may be shown only when it is short and holds nothing sensitive:
// no personal data, no credential, no long random-looking token.

const MAX_PREVIEW = 80;
const TOKEN = /[A-Za-z0-9+/_=-]{20,}/g;

export type SecretCounter = (text: string) => number;

/** `phrase` cut to 80 chars when `original` (the same span, un-normalized) is safe to show; else undefined. */
export function safePreview(phrase: string, original: string, countSecrets?: SecretCounter): string | undefined {
  if (containsPii(original)) return undefined;
  if (countSecrets && countSecrets(original) > 0) return undefined;
  for (const m of original.match(TOKEN) ?? []) if (shannonEntropy(m) > 3.5) return undefined;
  const p = phrase.trim();
  return p.length > MAX_PREVIEW ? `${p.slice(0, MAX_PREVIEW - 1)}…` : p;
}
