// Person-name normalisation: one parsed shape for "John Smith", "Smith, John", "Dr. José García-López Jr."
// and separate first/last columns, so the scorer compares like with like.
import { nicknameRoots } from './nicknames.js';

/** A person's name split into the parts the scorer compares; shared through a cache, so never mutated. */
export interface ParsedName {
  /** First given name; a single letter when only an initial was given. */
  readonly given: string;
  /** Further given names or initials. */
  readonly middles: readonly string[];
  /** Surname with spaces and hyphens removed ("garcialopez"). */
  readonly surname: string;
  /** Pieces of a compound surname ("garcia", "lopez"); one piece for a simple surname. */
  readonly surnameParts: readonly string[];
  /** Surname without its particles ("vanderberg" gives "berg"), so "Van der Berg" meets "Berg". */
  readonly surnameCore: string;
  /** Generational suffix (jr, sr, ii, iii, iv) kept apart because it separates father from son. */
  readonly suffix: string;
  /** Nickname roots of `given`, computed once per record rather than once per pair. */
  readonly givenRoots: readonly string[];
}

const HONORIFICS = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'dame', 'rev', 'madam', 'mme', 'mlle', 'herr', 'frau']);
const SUFFIXES = new Map([
  ['jr', 'jr'], ['junior', 'jr'], ['sr', 'sr'], ['senior', 'sr'],
  ['ii', 'ii'], ['2nd', 'ii'], ['iii', 'iii'], ['3rd', 'iii'], ['iv', 'iv'], ['4th', 'iv'],
]);
// Particles that belong to the surname that follows them ("van der Berg", "de la Cruz").
const PARTICLES = new Set(['van', 'von', 'der', 'den', 'de', 'del', 'della', 'la', 'le', 'da', 'di', 'du', 'dos', 'das', 'st', 'bin', 'ibn', 'al', 'mac']);

// Already in shape: letters, digits and commas, single spaces or hyphens between them. Upper case is
// allowed and lowered afterwards. A character loop, because a regex test costs more than the scoring.
function isClean(s: string): boolean {
  let sep = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 44) sep = false;
    else if (c === 32 || c === 45) {
      if (sep) return false;
      sep = true;
    } else return false;
  }
  return !sep || s.length === 0;
}

/** Lower-case, accent-free text with only letters, digits, spaces, hyphens and commas kept. */
export function normalizeText(s: string): string {
  if (isClean(s)) return s.toLowerCase();
  return s
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/[’'`.]/g, '')
    .replace(/[^a-z0-9,\- ]+/g, ' ')
    .replace(/\s*-\s*/g, '-')
    .replace(/\s+/g, ' ')
    .replace(/^-+|-+$/g, '')
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
  // A hyphenated given name ("Mary-Jane") is one name; only surnames split on hyphens.
  const given = (givenToks[0] ?? '').replace(/-/g, '');
  const surnameParts = surnameToks.flatMap((t) => t.split('-')).filter((t) => t.length > 0);
  const core = surnameParts.filter((p) => !PARTICLES.has(p) || surnameParts.length === 1);
  return {
    given,
    middles: givenToks.slice(1).map((t) => t.replace(/-/g, '')),
    surname: surnameParts.join(''),
    surnameParts: core,
    surnameCore: core.join(''),
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

// Parsed names by raw text. Lists repeat names a lot (and a job scores each entry once per step), so
// most lookups hit; the cache is dropped whole when full, which keeps it cheap and bounded.
const CACHE_LIMIT = 20_000;
const partsCache = new Map<string, Map<string, ParsedName>>();
let partsCount = 0;
const fullCache = new Map<string, ParsedName>();

/** parseNameParts through a bounded cache keyed by the raw column values; the result is shared. */
export function cachedNameParts(first: string, last: string): ParsedName {
  // Two levels rather than a joined key: raw strings keep their hash, a joined one is hashed anew.
  let inner = partsCache.get(last);
  let hit = inner?.get(first);
  if (hit !== undefined) return hit;
  if (partsCount >= CACHE_LIMIT) {
    partsCache.clear();
    partsCount = 0;
    inner = undefined;
  }
  if (inner === undefined) partsCache.set(last, (inner = new Map()));
  hit = parseNameParts(first, last);
  inner.set(first, hit);
  partsCount++;
  return hit;
}

/** parseFullName through a bounded cache keyed by the raw text; the result is shared. */
export function cachedFullName(raw: string): ParsedName {
  let hit = fullCache.get(raw);
  if (hit !== undefined) return hit;
  if (fullCache.size >= CACHE_LIMIT) fullCache.clear();
  hit = parseFullName(raw);
  fullCache.set(raw, hit);
  return hit;
}
