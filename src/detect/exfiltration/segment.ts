// Splits a run of letters that was spaced out one by one with no wider gap
// between words (`f o r g e t e v e r y t h i n g` → `forgeteverything`)
// back into words, by dynamic programming over a dictionary: the words of
// the rule patterns plus common short words. Fewest words wins; a letter no
// word covers costs more than a word.

const COMMON = 'a i am an and are as at be been before but by can do for from have he her his how i if in is it its me my no not now of on or our say she so tell that the their them then there these they this to told us was we were what when which who will with would you your'.split(' ');

const UNKNOWN_CHAR = 4;

export class Segmenter {
  private readonly words = new Set<string>();
  private readonly maxLength: number;

  constructor(vocabulary: Iterable<string>) {
    for (const w of COMMON) this.words.add(w);
    for (const w of vocabulary) if (/^[a-z]{2,24}$/.test(w)) this.words.add(w);
    let max = 1;
    for (const w of this.words) max = Math.max(max, w.length);
    this.maxLength = max;
  }

  /** `token` with spaces between the words found in it. */
  split(token: string): string {
    const n = token.length;
    const cost = new Float64Array(n + 1).fill(Infinity);
    const from = new Int32Array(n + 1);
    cost[0] = 0;
    for (let i = 1; i <= n; i++) {
      for (let j = Math.max(0, i - this.maxLength); j < i; j++) {
        if (cost[j] === Infinity) continue;
        const c = this.words.has(token.slice(j, i)) ? 1 : i - j === 1 ? UNKNOWN_CHAR : Infinity;
        if (cost[j]! + c < cost[i]!) {
          cost[i] = cost[j]! + c;
          from[i] = j;
        }
      }
    }
    const parts: string[] = [];
    for (let i = n; i > 0; i = from[i]!) parts.push(token.slice(from[i]!, i));
    return parts.reverse().join(' ');
  }
}

/** Words of rule patterns and keywords: the lower-case letter runs in them. */
export function patternVocabulary(sources: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const s of sources) for (const w of s.match(/[a-z]{2,}/g) ?? []) out.add(w);
  return out;
}
