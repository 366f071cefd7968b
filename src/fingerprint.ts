import { createHmac, randomBytes } from 'node:crypto';

// A secret is known to gatewatch only by its keyed fingerprint. Without the
// deployment's key nobody can test a guessed secret against a fingerprint.

export type Fingerprinter = (secret: string) => string;

export const FINGERPRINT_PREFIX = 'fp:';

export function createFingerprinter(key: string | Buffer): Fingerprinter {
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (k.length === 0) throw new Error('fingerprint key must not be empty');
  return (secret: string) =>
    FINGERPRINT_PREFIX + createHmac('sha256', k).update(secret, 'utf8').digest('hex').slice(0, 16);
}

/** A random per-process key: fingerprints then differ across replicas and restarts. */
export function ephemeralFingerprintKey(): Buffer {
  return randomBytes(32);
}
