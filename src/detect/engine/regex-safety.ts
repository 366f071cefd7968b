// Rule patterns come from data files, including users' own, and run on
// untrusted traffic. A pattern that can backtrack exponentially would let a
// crafted prompt stall the detector, so patterns are checked when rules load:
// no backreferences, and no unbounded repetition of anything that can itself
// match in more than one way (nested quantifiers, alternations).

export interface RegexSafetyProblem {
  readonly reason: string;
}

interface Node {
  /** Can match strings of different lengths. */
  readonly variable: boolean;
  /** Contains an alternation. */
  readonly alternation: boolean;
}

/** Repetition above this many times counts as unbounded. */
const SMALL_REPEAT = 16;

class Parser {
  private i = 0;
  problem: string | undefined;
  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.src.length && this.problem === undefined) this.problem = `unbalanced ")" at ${this.i}`;
    return node;
  }

  private alternation(): Node {
    const branches: Node[] = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    if (branches.length === 1) return branches[0]!;
    return { variable: true, alternation: true };
  }

  private sequence(): Node {
    let variable = false;
    let alternation = false;
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.quantified();
      variable ||= atom.variable;
      alternation ||= atom.alternation;
    }
    return { variable, alternation };
  }

  private quantified(): Node {
    const start = this.i;
    const atom = this.atom();
    const q = this.quantifier();
    if (!q) return atom;
    const unbounded = q.max > SMALL_REPEAT;
    if (unbounded && (atom.variable || atom.alternation) && this.problem === undefined) {
      this.problem = `nested quantifier: ${this.src.slice(start, this.i)} repeats a sub-pattern that can match in more than one way`;
    }
    return { variable: atom.variable || q.min !== q.max, alternation: atom.alternation };
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.src[this.i];
    let q: { min: number; max: number } | undefined;
    if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '?') q = { min: 0, max: 1 };
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return undefined;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.i += m[0].length;
      if (this.src[this.i] === '?') this.i++;
      return { min, max };
    }
    if (!q) return undefined;
    this.i++;
    if (this.src[this.i] === '?') this.i++;
    return q;
  }

  private atom(): Node {
    const c = this.src[this.i];
    if (c === '(') {
      this.i++;
      let lookaround = false;
      if (this.src[this.i] === '?') {
        const rest = this.src.slice(this.i, this.i + 4);
        if (rest.startsWith('?:')) this.i += 2;
        else if (rest.startsWith('?=') || rest.startsWith('?!')) (this.i += 2), (lookaround = true);
        else if (rest.startsWith('?<=') || rest.startsWith('?<!')) (this.i += 3), (lookaround = true);
        else if (rest.startsWith('?<')) this.i = this.src.indexOf('>', this.i) + 1;
        else this.problem ??= `unsupported group syntax at ${this.i}`;
      }
      const inner = this.alternation();
      if (this.src[this.i] !== ')') this.problem ??= 'unterminated group';
      this.i++;
      return lookaround ? { variable: false, alternation: false } : inner;
    }
    if (c === '[') {
      this.i++;
      if (this.src[this.i] === '^') this.i++;
      if (this.src[this.i] === ']') this.i++;
      while (this.i < this.src.length && this.src[this.i] !== ']') this.i += this.src[this.i] === '\\' ? 2 : 1;
      if (this.i >= this.src.length) this.problem ??= 'unterminated character class';
      this.i++;
      return { variable: false, alternation: false };
    }
    if (c === '\\') {
      const e = this.src[this.i + 1];
      if (e !== undefined && (/[1-9]/.test(e) || e === 'k')) this.problem ??= 'backreferences are not allowed';
      this.i += 2;
      if (e === 'u' && this.src[this.i] === '{') this.i = this.src.indexOf('}', this.i) + 1;
      else if (e === 'u') this.i += 4;
      else if (e === 'x') this.i += 2;
      return { variable: false, alternation: false };
    }
    if (c === '*' || c === '+' || c === '?') {
      this.problem ??= `nothing to repeat at ${this.i}`;
      this.i++;
      return { variable: false, alternation: false };
    }
    this.i++;
    return { variable: false, alternation: false };
  }
}

/** undefined when the pattern is safe to run on untrusted text, else why not. */
export function regexSafetyProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
  } catch (e) {
    return `not a valid regular expression: ${(e as Error).message}`;
  }
  const p = new Parser(pattern);
  p.parse();
  return p.problem;
}
