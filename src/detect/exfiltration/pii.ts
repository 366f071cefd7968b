// Counts personal data items in text: e-mail addresses, phone numbers,
// payment cards (Luhn), IBANs (mod 97), US SSNs, UK National Insurance
// numbers and Indian Aadhaar numbers (Verhoeff). Only counts leave this
// module; the items themselves are never kept.

export interface PiiCounts {
  emails: number;
  phones: number;
  cards: number;
  ibans: number;
  nationalIds: number;
}

export function emptyPiiCounts(): PiiCounts {
  return { emails: 0, phones: 0, cards: 0, ibans: 0, nationalIds: 0 };
}

// E-mail domains, matched from each '@' (a regex that starts at every word char is slow).
const EMAIL_DOMAIN = /@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/y;
const LOCAL_PART = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-') LOCAL_PART[ch.charCodeAt(0)] = 1;

/** Counts e-mail addresses and blanks them out of `text`. */
function takeEmails(text: string, counts: PiiCounts): string {
  let out = '';
  let copied = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64) {
      const c = text.charCodeAt(start - 1);
      if (c >= 128 || LOCAL_PART[c] === 0) break;
      start--;
    }
    if (start === at || start < copied) continue;
    EMAIL_DOMAIN.lastIndex = at;
    const m = EMAIL_DOMAIN.exec(text);
    if (!m) continue;
    const end = at + m[0].length;
    counts.emails++;
    out += text.slice(copied, start) + ' '.repeat(end - start);
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g;
const SSN = /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g;
const NINO = /\b(?![DFIQUV])[A-Z](?![DFIOQUV])[A-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g;
const CARD = /(?<![\d-])(?:\d{4}[ -]){3}\d{1,7}(?![\d-])|(?<![\d-])\d{13,19}(?![\d-])/g;
const AADHAAR = /(?<![\d-])[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}(?![\d-])/g;
const PHONE = /(?<![\w+.])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w.])/g;
const IP_LIKE = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const SAME_DIGIT = /^(\d)\1+$/;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /g, '');
  if (s.length < 15 || s.length > 34) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rem = v > 9 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

const VERHOEFF_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

export function verhoeffValid(digits: string): boolean {
  let c = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) - 48;
    c = VERHOEFF_D[c]![VERHOEFF_P[i % 8]![d]!]!;
  }
  return c === 0;
}

function digitsOf(s: string): string {
  return s.replace(/\D/g, '');
}

function looksLikePhone(m: string): boolean {
  const n = digitsOf(m).length;
  if (n < 10 || n > 15 || IP_LIKE.test(m)) return false;
  return m.startsWith('+') || m.includes('(') || /^\d{3}[ .-]\d{3}[ .-]\d{4}$/.test(m) || m.split(/[ .-]/).length >= 3;
}

/**
 * Adds the personal data items found in `text` to `counts`. Kinds are taken
 * in order and each accepted item is blanked out, so the digits of a card or
 * an IBAN are not counted again as a phone number.
 */
export function countPii(text: string, counts: PiiCounts = emptyPiiCounts()): PiiCounts {
  let rest = text;
  const take = (re: RegExp, accept: (m: string) => boolean, bump: () => void): void => {
    re.lastIndex = 0;
    if (!re.test(rest)) return;
    rest = rest.replace(re, (m) => {
      if (!accept(m)) return m;
      bump();
      return ' '.repeat(m.length);
    });
  };
  IBAN.lastIndex = 0;
  rest = takeEmails(rest, counts);
  // IBAN-shaped strings are blanked whether or not they check out: their digits are not phones.
  if (IBAN.test(rest)) {
    rest = rest.replace(IBAN, (m) => {
      if (ibanValid(m)) counts.ibans++;
      return ' '.repeat(m.length);
    });
  }
  take(SSN, () => true, () => counts.nationalIds++);
  take(NINO, () => true, () => counts.nationalIds++);
  take(CARD, (m) => luhnValid(digitsOf(m)) && !SAME_DIGIT.test(digitsOf(m)), () => counts.cards++);
  take(AADHAAR, (m) => verhoeffValid(digitsOf(m)), () => counts.nationalIds++);
  take(PHONE, looksLikePhone, () => counts.phones++);
  return counts;
}

export function totalPii(c: PiiCounts): number {
  return c.emails + c.phones + c.cards + c.ibans + c.nationalIds;
}

/** True when `text` holds any personal data item: used before showing an excerpt. */
export function containsPii(text: string): boolean {
  return totalPii(countPii(text)) > 0;
}
