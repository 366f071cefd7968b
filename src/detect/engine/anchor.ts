// Which rules can be matched only at keyword hits. When every match of a
// pattern must begin with one of the rule's keywords, the scanner runs the
// pattern as a sticky regex exactly where a keyword starts: one short
// attempt per hit instead of a search through a window.

const META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);
const ESCAPED_LITERAL = /[-.$/\\^*+?()[\]{}|:=_~@#%&!,;'"<> ]/;

/** Reads the literal characters a pattern must start with from `i`; stops before anything optional or variable. */
function literalPrefix(src: string, i: number): { text: string; end: number; whole: boolean; stop: number } {
  let text = '';
  let j = i;
  for (;;) {
    const c = src[j];
    if (c === undefined || c === '|' || c === ')') return { text, end: j, whole: true, stop: j };
    let lit: string | undefined;
    let width = 1;
    if (c === '\\') {
      const e = src[j + 1];
      if (e !== undefined && ESCAPED_LITERAL.test(e)) {
        lit = e;
        width = 2;
      }
    } else if (!META.has(c)) lit = c;
    if (lit === undefined) return { text, end: j, whole: false, stop: j };
    const q = src[j + width];
    // A quantifier makes this character optional or repeated: the fixed prefix ends before it.
    if (q === '?' || q === '*' || q === '+' || q === '{') return { text, end: j, whole: false, stop: j };
    text += lit;
    j += width;
  }
}

/** Index of the `)` closing the group opened at `open`, honouring classes and escapes. */
function closeOf(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Top-level alternatives of the group body src[from, to). */
function alternatives(src: string, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < to && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  out.push([start, to]);
  return out;
}

/**
 * The literal texts every match of the pattern starts with (one per
 * leading alternative), or undefined when the start is not a fixed literal.
 * Leading lookbehinds are skipped: they consume nothing.
 */
export function leadingLiterals(pattern: string): string[] | undefined {
  let i = 0;
  while (pattern.startsWith('(?<!', i) || pattern.startsWith('(?<=', i)) {
    const close = closeOf(pattern, i);
    if (close < 0) return undefined;
    i = close + 1;
  }
  if (pattern.startsWith('(?:', i)) {
    const close = closeOf(pattern, i);
    if (close < 0) return undefined;
    const q = pattern[close + 1];
    if (q === '?' || q === '*' || q === '{') return undefined;
    const after = q === '+' ? { text: '' } : literalPrefix(pattern, close + 1);
    const out: string[] = [];
    for (const [a, b] of alternatives(pattern, i + 3, close)) {
      const lit = literalPrefix(pattern.slice(0, b), a);
      if (lit.text === '') return undefined;
      out.push(lit.whole && lit.end === b ? lit.text + after.text : lit.text);
    }
    return out;
  }
  const lit = literalPrefix(pattern, i);
  return lit.text === '' ? undefined : [lit.text];
}

/** True when every match starts with one of the keywords (the prefilter is ASCII case-insensitive). */
export function startsAtKeyword(pattern: string, keywords: readonly string[]): boolean {
  const lits = leadingLiterals(pattern);
  if (!lits) return false;
  const kws = keywords.map((k) => k.toLowerCase());
  return lits.every((l) => kws.some((k) => l.toLowerCase().startsWith(k)));
}
