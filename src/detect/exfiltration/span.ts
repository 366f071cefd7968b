// How many spaces a match of a rule pattern can hold at most. Normalized text
// has one space between words, so this bounds, in words, how far a match
// reaches from where it starts: an anchored rule whose second keyword group
// must lie inside its match is then tried only at keyword hits with one of
// those words that close. `\S+` can match words of any length, which is why
// the bound is in words, not characters.

/** Spaces in a pattern's longest match; Infinity when unbounded or when the pattern looks behind its start. */
export function maxSpaces(pattern: string): number {
  const p = new SpanParser(pattern);
  const spaces = p.alternation();
  return p.complete() ? spaces : Infinity;
}

class SpanParser {
  private i = 0;
  private unknown = false;
  constructor(private readonly src: string) {}

  /** True when the whole pattern was read and every construct was understood. */
  complete(): boolean {
    return !this.unknown && this.i === this.src.length;
  }

  alternation(): number {
    let most = this.sequence();
    while (this.src[this.i] === '|') {
      this.i++;
      most = Math.max(most, this.sequence());
    }
    return most;
  }

  private sequence(): number {
    let total = 0;
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') total += this.quantified();
    return total;
  }

  private quantified(): number {
    const atom = this.atom();
    const max = this.quantifierMax();
    if (max === undefined) return atom;
    return atom === 0 ? 0 : atom * max;
  }

  /** The upper bound of a quantifier at the cursor (consumed), or undefined when there is none. */
  private quantifierMax(): number | undefined {
    const c = this.src[this.i];
    let max: number | undefined;
    if (c === '*' || c === '+') max = Infinity;
    else if (c === '?') max = 1;
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return undefined;
      this.i += m[0].length - 1;
      max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
    }
    if (max === undefined) return undefined;
    this.i++;
    if (this.src[this.i] === '?') this.i++;
    return max;
  }

  private atom(): number {
    const c = this.src[this.i]!;
    if (c === '(') return this.group();
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    this.i++;
    if (c === '.') return 1;
    return c === ' ' ? 1 : 0;
  }

  private group(): number {
    this.i++;
    const rest = this.src.slice(this.i, this.i + 3);
    if (rest.startsWith('?<!')) {
      // A negative lookbehind only refuses text before the match's start: it adds nothing to the match.
      this.i += 3;
      this.alternation();
      if (this.src[this.i] !== ')') this.unknown = true;
      this.i++;
      return 0;
    }
    if (rest.startsWith('?<=')) {
      // A lookbehind reads text before the match's start: no bound from the start.
      this.unknown = true;
      this.i += 3;
    } else if (rest.startsWith('?:') || rest.startsWith('?=') || rest.startsWith('?!')) this.i += 2;
    else if (rest.startsWith('?<') && this.src.indexOf('>', this.i) > 0) this.i = this.src.indexOf('>', this.i) + 1;
    else if (rest.startsWith('?')) {
      this.unknown = true;
      this.i++;
    }
    // A lookahead's text counts too: a word the rule needs may sit in it.
    const inner = this.alternation();
    if (this.src[this.i] !== ')') this.unknown = true;
    this.i++;
    return inner;
  }

  /** 1 when the class can match a space. */
  private charClass(): number {
    this.i++;
    const negated = this.src[this.i] === '^';
    if (negated) this.i++;
    let space = false;
    for (let first = true; this.i < this.src.length && (this.src[this.i] !== ']' || first); first = false) {
      const lo = this.classAtom();
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']') {
        this.i++;
        const hi = this.classAtom();
        space ||= lo.code !== undefined && hi.code !== undefined ? lo.code <= 0x20 && hi.code >= 0x20 : lo.space || hi.space;
      } else space ||= lo.space;
    }
    if (this.src[this.i] !== ']') this.unknown = true;
    this.i++;
    return space !== negated ? 1 : 0;
  }

  /** One char or escape inside a class: its code unit when it is a single one, and whether it is or holds the space. */
  private classAtom(): { code: number | undefined; space: boolean } {
    if (this.src[this.i] !== '\\') {
      const code = this.src.charCodeAt(this.i++);
      return { code, space: code === 0x20 };
    }
    const e = this.src[this.i + 1]!;
    if (e === 'x' || e === 'u') {
      const start = this.i;
      const space = this.escape() === 1;
      const code = parseInt(this.src.slice(start + 2, this.i).replace(/[{}]/g, ''), 16);
      return { code, space };
    }
    const space = this.escape() === 1;
    return { code: /[a-zA-Z0-9]/.test(e) ? undefined : e.charCodeAt(0), space };
  }

  /** 1 when the escape can match a space. */
  private escape(): number {
    const e = this.src[this.i + 1];
    this.i += 2;
    if (e === 'u' && this.src[this.i] === '{') {
      const end = this.src.indexOf('}', this.i);
      const cp = parseInt(this.src.slice(this.i + 1, end), 16);
      this.i = end + 1;
      return cp === 0x20 ? 1 : 0;
    }
    if (e === 'u' || e === 'x') {
      const digits = e === 'u' ? 4 : 2;
      const code = parseInt(this.src.slice(this.i, this.i + digits), 16);
      this.i += digits;
      return code === 0x20 ? 1 : 0;
    }
    if (e === 'p' || e === 'P') {
      // A Unicode property: whether it holds the space is not worth working out.
      this.unknown = true;
      return 0;
    }
    return e === 's' || e === 'D' || e === 'W' || e === ' ' ? 1 : 0;
  }
}
