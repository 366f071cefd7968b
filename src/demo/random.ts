import { mulberry32 } from '../random.js';

// A small seeded PRNG (mulberry32): the demo's traffic, users and fake keys
// are the same for the same --seed, and nothing secret-looking is committed.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  int(min: number, maxInclusive: number): number;
  pick<T>(items: readonly T[]): T;
  /** `length` characters from `alphabet`. */
  string(length: number, alphabet?: string): string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function createRandom(seed: number): Random {
  const next = mulberry32(seed);
  const int = (min: number, maxInclusive: number) => min + Math.floor(next() * (maxInclusive - min + 1));
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    string(length, alphabet = ALNUM) {
      let s = '';
      for (let i = 0; i < length; i++) s += alphabet[int(0, alphabet.length - 1)];
      return s;
    },
  };
}

/** Fake keys in the shapes real ones have, made at run time from the seed. */
export function fakeKeys(random: Random) {
  return {
    /** A LiteLLM-style virtual key, what clients of a gateway hold. */
    virtual: () => `sk-${random.string(22)}`,
    anthropic: () => `sk-ant-api03-${random.string(93, ALNUM + '-_')}AA`,
  };
}
