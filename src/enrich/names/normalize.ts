// Person-name normalisation: one parsed shape for "John Smith", "Smith, John", "Dr. José García-López Jr."
// and separate first/last columns, so the scorer compares like with like.
import { nicknameRoots } from './nicknames.js';

/** A person's name split into the parts the scorer compares. */
export interface ParsedName {
  /** First given name; a single letter when only an initial was given. */
  given: string;
  /** Further given names or initials. */
  middles: string[];
  /** Surname with spaces and hyphens removed ("garcialopez"). */
  surname: string;
  /** Pieces of a compound surname ("garcia", "lopez"); one piece for a simple surname. */
  surnameParts: string[];
  /** Generational suffix (jr, sr, ii, iii, iv) kept apart because it separates father from son. */
  suffix: string;
  /** Nickname roots of `given`, computed once per record rather than once per pair. */
  givenRoots: readonly string[];
}

const HONORIFICS = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'dame', 'rev', 'madam', 'mme', 'mlle', 'herr', 'frau']);
const SUFFIXES = new Map([
  ['jr', 'jr'], ['junior', 'jr'], ['sr', 'sr'], ['senior', 'sr'],
  ['ii', 'ii'], ['2nd', 'ii'], ['iii', 'iii'], ['3rd', 'iii'], ['iv', 'iv'], ['4th', 'iv'],
]);
// Particles that belong to the surname that follows them ("van der Berg", "de la Cruz").
const PARTICLES = new Set(['van', 'von', 'der', 'den', 'de', 'del', 'della', 'la', 'le', 'da', 'di', 'du', 'dos', 'das', 'st', 'bin', 'ibn', 'al', 'mac']);

const CLEAN = /^(?:(?:[a-z0-9,]+(?: |-(?=[a-z0-9,])))*[a-z0-9,]+)?$/;
/** Lower-case, accent-free text with only letters, digits, spaces, hyphens and commas kept. */
export function normalizeText(s: string): string {
  // Most values are plain ASCII already in shape; the regex chain below costs more than scoring a pair.
  const lower = s.toLowerCase();
  if (CLEAN.test(lower)) return lower;
  return lower
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/[’'`.]/g, '')
    .replace(/[^a-z0-9,\- ]+/g, ' ')
    .replace(/\s*-\s*/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}

function tokens(s: string): string[] {
  return s.length === 0 ? [] : s.split(' ').filter((t) => t.length > 0 && t !== '-');
}

// Honorifics are noise and suffixes are kept apart; both are pulled out wherever they stand.
function strip(toks: string[], out: { suffix: string }): string[] {
  const kept: string[] = [];
  for (const t of toks) {
    if (HONORIFICS.has(t)) continue;
    const suf = SUFFIXES.get(t);
    // "ii"/"iv" could be a real initial pair only in pathological input; a suffix reading is far likelier.
    if (suf !== undefined && (kept.length > 0 || toks.length === 1)) {
      out.suffix = suf;
      continue;
    }
    kept.push(t);
  }
  return kept;
}

function build(givenToks: string[], surnameToks: string[], suffix: string): ParsedName {
  const given = givenToks[0] ?? '';
  const surnameParts = surnameToks.flatMap((t) => t.split('-')).filter((t) => t.length > 0);
  return {
    given,
    middles: givenToks.slice(1),
    surname: surnameParts.join(''),
    surnameParts: surnameParts.filter((p) => !PARTICLES.has(p) || surnameParts.length === 1),
    suffix,
    givenRoots: given.length > 1 ? nicknameRoots(given) : [],
  };
}

/** Parses a free-text full name: "John Smith", "Smith, John", "Dr José García-López Jr.". */
export function parseFullName(raw: string): ParsedName {
  const out = { suffix: '' };
  const text = normalizeText(raw);
  const comma = text.indexOf(',');
  if (comma >= 0) {
    const before = strip(tokens(text.slice(0, comma).replace(/,/g, ' ')), out);
    const after = strip(tokens(text.slice(comma + 1).replace(/,/g, ' ')), out);
    // "John Smith, Jr." leaves nothing after the comma once the suffix is out: not the "Last, First" form.
    if (after.length === 0) return splitOrdered(before, out.suffix);
    return build(after, before, out.suffix);
  }
  return splitOrdered(strip(tokens(text), out), out.suffix);
}

function splitOrdered(toks: string[], suffix: string): ParsedName {
  if (toks.length <= 1) return build(toks, [], suffix);
  let start = toks.length - 1;
  while (start > 1 && PARTICLES.has(toks[start - 1] ?? '')) start--;
  return build(toks.slice(0, start), toks.slice(start), suffix);
}

/** Parses separate given-name and surname columns; either may carry honorifics, initials or a suffix. */
export function parseNameParts(first: string, last: string): ParsedName {
  const out = { suffix: '' };
  const given = strip(tokens(normalizeText(first).replace(/,/g, ' ')), out);
  const surname = strip(tokens(normalizeText(last).replace(/,/g, ' ')), out);
  return build(given, surname, out.suffix);
}

/** Whether a parsed name has nothing to compare. */
export function isEmptyName(n: ParsedName): boolean {
  return n.given.length === 0 && n.surname.length === 0;
}
