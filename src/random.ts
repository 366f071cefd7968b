// A small seeded PRNG (mulberry32): the demo, the simulators and the corpus
// generators produce the same data for the same seed.

export type Rng = () => number;

/** Uniform in [0, 1), deterministic for a seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
