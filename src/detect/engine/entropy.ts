// Shannon entropy in bits per character: random keys score high, words,
// placeholders and repeated characters score low.

const counts = new Uint32Array(128);

export function shannonEntropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  counts.fill(0);
  let other: Map<number, number> | undefined;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) counts[c]!++;
    else {
      other ??= new Map();
      other.set(c, (other.get(c) ?? 0) + 1);
    }
  }
  let h = 0;
  for (let c = 0; c < 128; c++) {
    const k = counts[c]!;
    if (k > 0) {
      const p = k / n;
      h -= p * Math.log2(p);
    }
  }
  if (other) {
    for (const k of other.values()) {
      const p = k / n;
      h -= p * Math.log2(p);
    }
  }
  return h;
}
