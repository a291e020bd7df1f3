// rpc_score step: is the candidate contact the right party (rpc) for the list entry's person, the
// wrong party (wpc), or unclear (review)? Fellegi-Sunter style: each field both sides carry lands
// on an agreement level worth a log2 likelihood ratio (how much likelier that level is for the same
// person than for two different people); the ratios add up and a logistic maps the sum to 0..100.
// It runs once per entry of a job, so the hot path reads columns without building a Map, parses
// names through a cache, and compares without allocating anything but the result.
import { jaroWinkler } from '../names/jaro-winkler.js';
import { rootsIntersect } from '../names/nicknames.js';
import { type ParsedName, cachedFullName, cachedNameParts, normalizeText } from '../names/normalize.js';
import { commonLetters, oneEdit } from '../names/similarity.js';

/** One field's contribution to the score. */
export interface RpcReason {
  field: string;
  level: string;
  /** log2 likelihood ratio; positive supports the same person. */
  weight: number;
}

/** Result of the rpc_score step. */
export type RpcResult =
  | { score: number; class: 'rpc' | 'wpc' | 'review'; weight: number; reasons: RpcReason[] }
  | { class: null; skipped: 'no_contact' };

/** Options of the rpc_score step. */
export interface RpcOptions {
  /** Scores at or above this are rpc, given an agreeing identifying field (dob, address, postcode, phone, email). */
  rpcThreshold?: number;
  /** Scores below this are wpc; between the two thresholds is review. */
  wpcThreshold?: number;
}

// Default thresholds, chosen on FEBRL4 even record numbers, whole record (`node --import tsx
// bench/rpc-eval.ts even`). Precision there is 1.000 from score 30 up, so the data alone does not
// pin rpcThreshold; 90 (summed evidence 3.2 bits past the prior offset, odds 9:1) because an rpc call
// is acted on without a person looking and should cost recall, not precision. At 90 recall was 0.995,
// and the class (which also demands an agreeing identifying field and no Jr/Sr, generation or
// household conflict) had F1 0.992 against a best F1 of 0.9996 over all thresholds. wpcThreshold 30:
// 0.12% of true pairs scored below it, so wpc rarely throws away the right party. FEBRL4 odd N and
// fake_1000 (the reported figures) only check these choices.
export const DEFAULT_RPC_THRESHOLD = 90;
export const DEFAULT_WPC_THRESHOLD = 30;
// Sum of weights at which the score is 50, i.e. minus log2 of the prior odds that a candidate pair is
// the same person. FEBRL4 candidates are 1 in 37 (5.2); summed weights are overconfident because
// fields are not independent, so the offset sits higher, where the best F1 threshold fell on even N.
const PRIOR_OFFSET = 8;

// Weights, log2(m/u). m (same person) reflects typing errors, moves and missing data; u (different
// people) reflects how often strangers agree by chance. Hand-set, then checked against m/u counted on
// FEBRL4 even N (true pairs against random pairs of different people): exact given name 8.2,
// surname 7.2, 'similar' spellings about 3.1 for either part, a part missing on one side -0.3 (given)
// and -2.4 (surname). Exact weights sit lower than counted because FEBRL's names are less skewed than
// real ones (John and Smith are common), and the same count puts a scramble of letters below zero
// only because FEBRL never scrambles: see `scrambled`.
interface PartWeights {
  exact: number;
  /** One keying slip (Damerau distance 1). */
  typo: number;
  /** Jaro-Winkler band 0.94..1 is from `similar` up to `close`. */
  close: number;
  /** Jaro-Winkler band 0.85..0.94 is from `similarLow` up to `similar`. */
  similar: number;
  similarLow: number;
  /**
   * Same letters reordered, at most one letter gained or lost (bag distance <= 1, as Febrl's bag
   * comparator): keying and transcription scramble letters ("Hayr", "mhoTa"). Weighed as a
   * mid-band similar spelling, since it keeps as much of the name as that band does.
   */
  scrambled: number;
  /** A part present on one side only: the FEBRL4 even N counts above, rounded to none. */
  oneSide: number;
  /** Strangers' names; eased towards `similarLow - 1` as Jaro-Winkler rises from 0.5 to 0.85. */
  disagree: number;
}
const GIVEN: PartWeights = { exact: 6, typo: 4.5, close: 5.5, similar: 3, similarLow: 1, scrambled: 2, oneSide: -0.3, disagree: -3.5 };
const SURNAME: PartWeights = { exact: 6.5, typo: 5, close: 6, similar: 3.5, similarLow: 1.5, scrambled: 2.5, oneSide: -2.4, disagree: -4.5 };
const W = {
  given: { nickname: 5, initial: 1.5, initialOther: -2, middleAsGiven: 3 },
  surname: { compound: 5, particles: 6 },
  middle: { exact: 1, disagree: -1 },
  swapped: -0.5,
  suffix: { disagree: -12, one_side: -0.5 },
  dob: { exact: 10, transposed: 6, one_typo: 5, same_year: -1, disagree: -4.5 },
  postcode: { exact: 5, one_typo: 2.5, disagree: -3 },
  city: { exact: 5, similar: 3, disagree: -2 },
  state: { exact: 1, disagree: -4 },
  streetNumber: { exact: 4, disagree: -3 },
  street: { exact: 7, similar: 5, partial: 0, disagree: -4 },
  phone: { exact: 11, partial: 5, disagree: -3 },
  email: { exact: 12, local_part: 5, disagree: -1 },
  // Once the street address agrees, postcode, city and state agree for the household's every member
  // and for the person alike, so their agreement adds far less than on its own (the fields are not
  // independent). Not zero: a mistyped street is confirmed by them. Lower values cost rpc recall on
  // FEBRL4 even N without changing the ranking.
  nestedLocation: { postcode: 2.5, city: 2, state: 0.5 },
} as const;

// Jaro-Winkler bands for names: at 0.94 and above a typo is the likely story; 0.85 to 0.94 is weaker.
const JW_CLOSE = 0.94;
const JW_SIMILAR = 0.85;
// Below the similar band the penalty still eases with similarity: strangers' names share few letters.
const JW_FLOOR = 0.5;
// A date of birth this many years off is another generation (father and son), not a slip.
const GENERATION_YEARS = 10;

/** One side of the comparison, normalised once so pairs can be scored without re-parsing. */
export interface RpcSide {
  name: ParsedName | null;
  dob: string;
  postcode: string;
  city: string;
  state: string;
  streetNumber: string;
  street: string;
  streetTokens: readonly string[];
  phone: string;
  email: string;
}

type Row = Readonly<Record<string, unknown>>;

// ---- Reading columns -------------------------------------------------------------------------
// Same reading as entry.ts's columnMap (trimmed text of strings and finite numbers, column names
// case- and space-insensitive, the first non-blank column of a name wins) but into fixed slots,
// because building a Map per entry cost more than scoring the pair. A unit test holds the two equal.
const FIELDS = ['first_name', 'last_name', 'full_name', 'dob', 'address', 'city', 'state', 'postcode', 'phone', 'email'] as const;
const F_FIRST = 0, F_LAST = 1, F_FULL = 2, F_DOB = 3, F_ADDRESS = 4, F_CITY = 5, F_STATE = 6, F_POSTCODE = 7, F_PHONE = 8, F_EMAIL = 9;
const CONTACT = FIELDS.length;
const CONTACT_NAME = 2 * FIELDS.length;
const SLOTS = CONTACT_NAME + 1;
const SLOT_OF = new Map<string, number>([
  ...FIELDS.map((f, i): [string, number] => [f, i]),
  ...FIELDS.map((f, i): [string, number] => ['contact_' + f, CONTACT + i]),
  ['contact_name', CONTACT_NAME],
]);
// Column names seen so far, raw, to their slot (-1: not read). Uploads have few distinct names.
const keySlots = new Map<string, number>();

function slotOf(key: string): number {
  let slot = keySlots.get(key);
  if (slot !== undefined) return slot;
  slot = SLOT_OF.get(key.trim().toLowerCase()) ?? -1;
  if (keySlots.size >= 4096) keySlots.clear();
  keySlots.set(key, slot);
  return slot;
}

// The column names of the previous entry and their slots: rows of one list share their columns in
// the same order, so most entries are read by comparing keys with these instead of looking them up.
let lastKeys: string[] = [];
let lastSlots: number[] = [];

function readColumns(entry: Row, out: string[]): void {
  out.fill('');
  let i = 0;
  let same = true;
  // for-in also walks inherited properties; a plain row inherits none unless Object.prototype was
  // polluted, so the per-key own-property check (a third of the reading cost) runs only otherwise.
  const proto: unknown = Object.getPrototypeOf(entry);
  const checkOwn = (proto !== Object.prototype && proto !== null) || polluted();
  for (const key in entry) {
    if (checkOwn && !Object.hasOwn(entry, key)) continue;
    let slot: number;
    if (same && i < lastKeys.length && lastKeys[i] === key) slot = lastSlots[i]!;
    else {
      if (same) {
        same = false;
        lastKeys = lastKeys.slice(0, i);
        lastSlots = lastSlots.slice(0, i);
      }
      slot = slotOf(key);
      lastKeys.push(key);
      lastSlots.push(slot);
    }
    i++;
    if (slot < 0 || out[slot] !== '') continue;
    const v = entry[key];
    if (typeof v === 'string') out[slot] = trimmed(v);
    else if (typeof v === 'number' && Number.isFinite(v)) out[slot] = String(v);
  }
  if (same && i < lastKeys.length) {
    lastKeys.length = i;
    lastSlots.length = i;
  }
}

function polluted(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

// String.prototype.trim, skipped when neither end can be white space (the usual cell).
function trimmed(v: string): string {
  const a = v.charCodeAt(0);
  const z = v.charCodeAt(v.length - 1);
  return a > 32 && a < 127 && z > 32 && z < 127 ? v : v.trim();
}

// ---- Normalising one side ----------------------------------------------------------------------

/** Normalises a date of birth to YYYYMMDD; CONTRACT.md's forms: YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY. '' when unreadable. */
export function normalizeDob(raw: string): string {
  const s = raw.trim();
  const n = s.length;
  if (n === 0) return '';
  // Fast paths for the two machine layouts; everything else goes through the general reading.
  if (n === 8 && allDigits(s, 0, 8) && (s.startsWith('19') || s.startsWith('20'))) return s;
  if (n === 10 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && allDigits(s, 0, 4) && allDigits(s, 5, 7) && allDigits(s, 8, 10)) {
    return s.slice(0, 4) + s.slice(5, 7) + s.slice(8, 10);
  }
  const parts = s.split(/[^0-9]+/).filter((p) => p.length > 0);
  let y: string, m: string, d: string;
  if (parts.length === 1) {
    const p = parts[0] ?? '';
    if (p.length !== 8) return '';
    if (p.startsWith('19') || p.startsWith('20')) [y, m, d] = [p.slice(0, 4), p.slice(4, 6), p.slice(6, 8)];
    else [m, d, y] = [p.slice(0, 2), p.slice(2, 4), p.slice(4, 8)];
  } else if (parts.length >= 3) {
    const [a = '', b = '', c = ''] = parts;
    if (a.length === 4) [y, m, d] = [a, b, c];
    else [m, d, y] = [a, b, c];
    if (y.length === 2) y = (Number(y) > 30 ? '19' : '20') + y;
  } else return '';
  return y.padStart(4, '0') + m.padStart(2, '0') + d.padStart(2, '0');
}

function allDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

// Lower-case letters and digits only; most postcodes are digits already and pass through untouched.
function alnumLower(s: string): string {
  let clean = true;
  for (let i = 0; i < s.length && clean; i++) {
    const c = s.charCodeAt(i);
    clean = (c >= 48 && c <= 57) || (c >= 97 && c <= 122);
  }
  return clean ? s : s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function digitsOnly(s: string): string {
  return allDigits(s, 0, s.length) ? s : s.replace(/[^0-9]/g, '');
}

interface Address {
  streetNumber: string;
  street: string;
  streetTokens: readonly string[];
}
const NO_ADDRESS: Address = { streetNumber: '', street: '', streetTokens: [] };

// Addresses, cities and states repeat across a list; normalised forms are cached by raw text and the
// caches dropped whole when full.
const CACHE_LIMIT = 20_000;
const addressCache = new Map<string, Address>();
const placeCache = new Map<string, string>();

function address(raw: string): Address {
  if (raw === '') return NO_ADDRESS;
  let a = addressCache.get(raw);
  if (a !== undefined) return a;
  const tokens = normalizeText(raw).replace(/,/g, ' ').split(' ').filter((t) => t.length > 0);
  const numberTok = tokens.find((t) => /[0-9]/.test(t)) ?? '';
  const streetTokens = tokens.filter((t) => !/[0-9]/.test(t));
  a = { streetNumber: numberTok.replace(/[^0-9]/g, ''), street: streetTokens.join(' '), streetTokens };
  if (addressCache.size >= CACHE_LIMIT) addressCache.clear();
  addressCache.set(raw, a);
  return a;
}

function place(raw: string): string {
  if (raw === '') return '';
  let p = placeCache.get(raw);
  if (p !== undefined) return p;
  p = normalizeText(raw).replace(/,/g, ' ').replace(/ +/g, ' ').trim();
  if (placeCache.size >= CACHE_LIMIT) placeCache.clear();
  placeCache.set(raw, p);
  return p;
}

function emptySide(): RpcSide {
  return { name: null, dob: '', postcode: '', city: '', state: '', streetNumber: '', street: '', streetTokens: [], phone: '', email: '' };
}

function fillSide(cols: readonly string[], contact: boolean, s: RpcSide): RpcSide {
  const o = contact ? CONTACT : 0;
  const first = cols[o + F_FIRST] ?? '';
  const last = cols[o + F_LAST] ?? '';
  const full = (contact ? cols[CONTACT_NAME] : '') || (cols[o + F_FULL] ?? '');
  let name: ParsedName | null = null;
  if (first !== '' || last !== '') name = cachedNameParts(first, last);
  else if (full !== '') name = cachedFullName(full);
  s.name = name !== null && name.given === '' && name.surname === '' ? null : name;
  s.dob = normalizeDob(cols[o + F_DOB] ?? '');
  s.postcode = alnumLower(cols[o + F_POSTCODE] ?? '');
  s.city = place(cols[o + F_CITY] ?? '');
  s.state = place(cols[o + F_STATE] ?? '');
  const a = address(cols[o + F_ADDRESS] ?? '');
  s.streetNumber = a.streetNumber;
  s.street = a.street;
  s.streetTokens = a.streetTokens;
  s.phone = digitsOnly(cols[o + F_PHONE] ?? '');
  s.email = (cols[o + F_EMAIL] ?? '').toLowerCase();
  return s;
}

/** Reads and normalises one side of an entry: own columns with prefix '', the contact with 'contact_'. */
export function prepareRpcSide(entry: Row, prefix: '' | 'contact_'): RpcSide {
  const cols = new Array<string>(SLOTS);
  readColumns(entry, cols);
  return fillSide(cols, prefix === 'contact_', emptySide());
}

/** Whether a side carries anything the scorer can compare. */
export function hasRpcFields(s: RpcSide): boolean {
  return (
    s.name !== null || s.dob !== '' || s.postcode !== '' || s.city !== '' || s.state !== '' ||
    s.street !== '' || s.streetNumber !== '' || s.phone !== '' || s.email !== ''
  );
}

// ---- Comparing ---------------------------------------------------------------------------------
// Comparators return the weight and leave the level's name here, so no object is built per field.
let level = '';

// Within a band the weight slides with the similarity, so near-exact typos rank above looser ones.
function band(jw: number, lo: number, hi: number, wLo: number, wHi: number): number {
  const t = (jw - lo) / (hi - lo);
  return wLo + (wHi - wLo) * (t > 1 ? 1 : t < 0 ? 0 : t);
}

// Two name tokens by spelling alone: exact, one slip, Jaro-Winkler bands, scrambled, or strangers.
function spelling(a: string, b: string, w: PartWeights): number {
  if (a === b) return (level = 'exact'), w.exact;
  const la = a.length;
  const lb = b.length;
  // Short names lose too much Jaro-Winkler to one slip ("jonh" is 0.93), so a single slip is close outright.
  if (la >= 3 && lb >= 3 && oneEdit(a, b)) return (level = 'close'), w.typo;
  // Jaro can only match letters the two share; when even all of them could not lift it above the
  // floor, the weight is the floor's and Jaro-Winkler need not run (most strangers' names).
  if (jwMaxBound(a, b) <= JW_FLOOR) return (level = 'disagree'), w.disagree;
  const jw = jaroWinkler(a, b);
  if (jw >= JW_CLOSE) return (level = 'close'), band(jw, JW_CLOSE, 1, w.similar, w.close);
  if (jw >= JW_SIMILAR) return (level = 'similar'), band(jw, JW_SIMILAR, JW_CLOSE, w.similarLow, w.similar);
  if ((la >= 4 || lb >= 4) && la >= 3 && lb >= 3 && (la > lb ? la : lb) - commonLetters(a, b) <= 1) return (level = 'scrambled'), w.scrambled;
  return (level = 'disagree'), band(jw, JW_FLOOR, JW_SIMILAR, w.disagree, w.similarLow - 1);
}

function hasToken(list: readonly string[], t: string): boolean {
  if (t.length < 2) return false;
  for (const x of list) if (x === t) return true;
  return false;
}

function compareGiven(a: ParsedName, b: ParsedName): number {
  const x = a.given;
  const y = b.given;
  // Two equal initials say no more than an initial against a full name ("J." is a twentieth of people).
  if (x === y) return x.length === 1 ? ((level = 'initial'), W.given.initial) : ((level = 'exact'), GIVEN.exact);
  if (x.length === 1 || y.length === 1) {
    return x.charCodeAt(0) === y.charCodeAt(0) ? ((level = 'initial'), W.given.initial) : ((level = 'disagree'), W.given.initialOther);
  }
  if (a.givenRoots.length > 0 && b.givenRoots.length > 0 && rootsIntersect(a.givenRoots, b.givenRoots)) return (level = 'nickname'), W.given.nickname;
  const w = spelling(x, y, GIVEN);
  // Many people go by their middle name: "J. Michael Smith" is "Michael Smith".
  if (level === 'disagree' && (hasToken(b.middles, x) || hasToken(a.middles, y))) return (level = 'middle_name'), W.given.middleAsGiven;
  return w;
}

function compareSurname(a: ParsedName, b: ParsedName): number {
  const x = a.surname;
  const y = b.surname;
  if (x === y) return (level = 'exact'), SURNAME.exact;
  // "Van der Berg" and "Berg": the particles are dropped or kept at whim.
  if (a.surnameCore === b.surnameCore && a.surnameCore.length > 1) return (level = 'particles'), W.surname.particles;
  // Compound surnames: "Garcia Lopez" against "Garcia" or "Lopez" keeps one of the parents' names;
  // "Maria Garcia Lopez" as one full name parses Garcia as a middle name, so look there too.
  if (a.surnameParts.length > 1 || b.surnameParts.length > 1) {
    for (const p of a.surnameParts) if (hasToken(b.surnameParts, p)) return (level = 'compound'), W.surname.compound;
  }
  if (hasToken(a.middles, y) || hasToken(b.middles, x)) return (level = 'compound'), W.surname.compound;
  return spelling(x, y, SURNAME);
}

// Given name against surname, for the swapped reading: spelling only (no nicknames across parts).
// xCore and yCore are the surnames without particles, where x or y is a surname.
function crossPart(x: string, y: string, w: PartWeights, xCore = x, yCore = y): number {
  if ((xCore !== x || yCore !== y) && xCore === yCore && xCore.length > 1) return (level = 'particles'), W.surname.particles;
  if (x.length === 0 || y.length === 0) {
    if (x.length === y.length) return (level = ''), NaN;
    return (level = 'one_side'), w.oneSide;
  }
  if (x.length === 1 || y.length === 1) {
    return x.charCodeAt(0) === y.charCodeAt(0) ? ((level = 'initial'), W.given.initial) : ((level = 'disagree'), W.given.initialOther);
  }
  return spelling(x, y, w);
}

function reason(reasons: RpcReason[], field: string, lvl: string, weight: number): void {
  reasons.push({ field, level: lvl, weight: Math.round(weight * 100) / 100 });
}

// Flags the class rules read, set by the comparators of one pair.
let givenConflict = false;
let suffixConflict = false;

function compareNames(a: ParsedName, b: ParsedName, reasons: RpcReason[]): void {
  // Direct reading: given with given, surname with surname. A part one side lacks counts as oneSide.
  let g = NaN;
  let gl = '';
  let s = NaN;
  let sl = '';
  if (a.given !== '' && b.given !== '') {
    g = compareGiven(a, b);
    gl = level;
  } else if (a.given !== b.given) {
    g = GIVEN.oneSide;
    gl = 'one_side';
  }
  if (a.surname !== '' && b.surname !== '') {
    s = compareSurname(a, b);
    sl = level;
  } else if (a.surname !== b.surname) {
    s = SURNAME.oneSide;
    sl = 'one_side';
  }
  const direct = (g === g ? g : 0) + (s === s ? s : 0);
  // Swapped reading: given name and surname entered the other way round, a common slip, and the
  // normal order for many East Asian names ("Wang Wei" / "Wei Wang").
  let swapped = false;
  if (direct < GIVEN.exact + SURNAME.exact) {
    const gx = crossPart(a.given, b.surname, GIVEN, a.given, b.surnameCore);
    const gxl = level;
    const sx = crossPart(a.surname, b.given, SURNAME, a.surnameCore, b.given);
    const sxl = level;
    const total = (gx === gx ? gx : 0) + (sx === sx ? sx : 0) + W.swapped;
    if (total > direct && (gxl !== 'one_side' || sxl !== 'one_side') && (gxl !== '' || sxl !== '')) {
      swapped = true;
      g = gx;
      gl = gxl;
      s = sx;
      sl = sxl;
    }
  }
  if (swapped) reason(reasons, 'name_order', 'swapped', W.swapped);
  if (gl !== '') reason(reasons, 'first_name', gl, g);
  if (sl !== '') reason(reasons, 'last_name', sl, s);
  givenConflict = gl === 'disagree';
  const am = a.middles[0];
  const bm = b.middles[0];
  if (am !== undefined && bm !== undefined && gl !== 'middle_name' && sl !== 'compound') {
    const same = am.charCodeAt(0) === bm.charCodeAt(0);
    reason(reasons, 'middle_name', same ? 'exact' : 'disagree', same ? W.middle.exact : W.middle.disagree);
  }
  // A differing generational suffix is strong evidence of father and son sharing a name.
  if (a.suffix !== b.suffix) {
    const both = a.suffix !== '' && b.suffix !== '';
    suffixConflict = both;
    reason(reasons, 'suffix', both ? 'disagree' : 'one_side', both ? W.suffix.disagree : W.suffix.one_side);
  }
}

function sameRange(a: string, ai: number, b: string, bi: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a.charCodeAt(ai + k) !== b.charCodeAt(bi + k)) return false;
  return true;
}

function year(s: string): number {
  return (s.charCodeAt(0) - 48) * 1000 + (s.charCodeAt(1) - 48) * 100 + (s.charCodeAt(2) - 48) * 10 + (s.charCodeAt(3) - 48);
}

let dobConflict = false;

function compareDob(a: string, b: string): number {
  if (a === b) return (level = 'exact'), W.dob.exact;
  const sameYear = sameRange(a, 0, b, 0, 4);
  if (sameYear && sameRange(a, 4, b, 6, 2) && sameRange(a, 6, b, 4, 2)) return (level = 'transposed'), W.dob.transposed;
  if (oneEdit(a, b, 99)) return (level = 'one_typo'), W.dob.one_typo;
  if (sameYear) return (level = 'same_year'), W.dob.same_year;
  // A generation apart, and not the same day of the year (a mistyped year keeps month and day): another
  // person, such as father and son, rather than a slip.
  dobConflict = Math.abs(year(a) - year(b)) >= GENERATION_YEARS && !sameRange(a, 4, b, 4, 4);
  return (level = 'disagree'), W.dob.disagree;
}

// Upper bound on Jaro-Winkler from the letters the two share (Jaro matches no more than that), so
// strangers' streets and towns skip the full comparison.
function jwMaxBound(a: string, b: string): number {
  const common = commonLetters(a, b);
  const jaroMax = (common / a.length + common / b.length + 1) / 3;
  return a.charCodeAt(0) === b.charCodeAt(0) ? jaroMax + 0.4 * (1 - jaroMax) : jaroMax;
}

function jwAtLeast(a: string, b: string, min: number): boolean {
  return jwMaxBound(a, b) >= min && jaroWinkler(a, b) >= min;
}

function compareStreet(a: RpcSide, b: RpcSide): number {
  if (a.street === b.street) return (level = 'exact'), W.street.exact;
  if (jwAtLeast(a.street, b.street, 0.9)) return (level = 'similar'), W.street.similar;
  for (const t of a.streetTokens) if (t.length > 2 && b.streetTokens.includes(t)) return (level = 'partial'), W.street.partial;
  return (level = 'disagree'), W.street.disagree;
}

function comparePostcode(a: string, b: string): number {
  if (a === b) return (level = 'exact'), W.postcode.exact;
  if (oneEdit(a, b, 99)) return (level = 'one_typo'), W.postcode.one_typo;
  return (level = 'disagree'), W.postcode.disagree;
}

function compareCity(a: string, b: string): number {
  if (a === b) return (level = 'exact'), W.city.exact;
  if (jwAtLeast(a, b, 0.9)) return (level = 'similar'), W.city.similar;
  return (level = 'disagree'), W.city.disagree;
}

// Phones as written vary in country and trunk prefixes: the last nine digits are the number.
function comparePhone(a: string, b: string): number {
  const la = a.length;
  const lb = b.length;
  const na = la < 9 ? la : 9;
  if (na === (lb < 9 ? lb : 9) && sameRange(a, la - na, b, lb - na, na)) return (level = 'exact'), W.phone.exact;
  if (sameRange(a, la - 7, b, lb - 7, 7)) return (level = 'partial'), W.phone.partial;
  return (level = 'disagree'), W.phone.disagree;
}

function compareEmail(a: string, b: string): number {
  if (a === b) return (level = 'exact'), W.email.exact;
  const at = a.indexOf('@');
  if (at > 2 && b.indexOf('@') === at && sameRange(a, 0, b, 0, at)) return (level = 'local_part'), W.email.local_part;
  return (level = 'disagree'), W.email.disagree;
}

const NO_OPTIONS: RpcOptions = Object.freeze({});
const SKIPPED: () => RpcResult = () => ({ class: null, skipped: 'no_contact' });

/** Scores two prepared sides; what scoreRpc runs once the entry is read. */
export function compareRpcSides(a: RpcSide, b: RpcSide, options: RpcOptions = NO_OPTIONS): RpcResult {
  if (!hasRpcFields(b)) return SKIPPED();
  const reasons: RpcReason[] = [];
  givenConflict = suffixConflict = dobConflict = false;
  // Identifying fields pin down one person among namesakes (city and state agree for many strangers);
  // personal ones (dob, email) also tell apart the members of one household.
  let identified = false;
  let personal = false;
  if (a.name !== null && b.name !== null) compareNames(a.name, b.name, reasons);
  if (a.dob !== '' && b.dob !== '') {
    const w = compareDob(a.dob, b.dob);
    reason(reasons, 'dob', level, w);
    if (w > 0) identified = personal = true;
  }
  // Location, from the most specific field down: a street address that agrees already places the
  // household, so postcode, city and state agreeing after it adds little (see nestedLocation).
  let streetAgrees = false;
  let postcodeAgrees = false;
  if (a.street !== '' && b.street !== '') {
    const w = compareStreet(a, b);
    reason(reasons, 'address', level, w);
    if (w > 0) identified = streetAgrees = true;
  }
  if (a.streetNumber !== '' && b.streetNumber !== '') {
    const same = a.streetNumber === b.streetNumber;
    reason(reasons, 'street_number', same ? 'exact' : 'disagree', same ? W.streetNumber.exact : W.streetNumber.disagree);
    if (same) identified = true;
    else streetAgrees = false;
  }
  if (a.postcode !== '' && b.postcode !== '') {
    let w = comparePostcode(a.postcode, b.postcode);
    if (w > 0) {
      identified = postcodeAgrees = true;
      if (streetAgrees) w = W.nestedLocation.postcode;
    }
    reason(reasons, 'postcode', level, w);
  }
  if (a.city !== '' && b.city !== '') {
    let w = compareCity(a.city, b.city);
    if (w > 0 && (streetAgrees || postcodeAgrees)) w = W.nestedLocation.city;
    reason(reasons, 'city', level, w);
  }
  if (a.state !== '' && b.state !== '') {
    const same = a.state === b.state;
    reason(reasons, 'state', same ? 'exact' : 'disagree', same ? (streetAgrees ? W.nestedLocation.state : W.state.exact) : W.state.disagree);
  }
  if (a.phone.length >= 7 && b.phone.length >= 7) {
    const w = comparePhone(a.phone, b.phone);
    reason(reasons, 'phone', level, w);
    if (w > 0) identified = true;
  }
  if (a.email !== '' && b.email !== '') {
    const w = compareEmail(a.email, b.email);
    if (level === 'exact') personal = true;
    reason(reasons, 'email', level, w);
    if (w > 0) identified = true;
  }
  let weight = 0;
  for (const r of reasons) weight += r.weight;
  const score = Math.round(10000 / (1 + Math.pow(2, PRIOR_OFFSET - weight))) / 100;
  const rpcAt = options.rpcThreshold ?? DEFAULT_RPC_THRESHOLD;
  const wpcBelow = options.wpcThreshold ?? DEFAULT_WPC_THRESHOLD;
  let cls: 'rpc' | 'wpc' | 'review' = score >= rpcAt ? 'rpc' : score < wpcBelow ? 'wpc' : 'review';
  if (cls === 'rpc') {
    // Names, even with city or state, cannot carry a right-party decision (on FEBRL4 an exact full-name
    // match is the same person only 87% of the time): without an agreeing identifying field, review.
    if (!identified) cls = 'review';
    // Jr against Sr, or birth dates a generation apart, is the classic father/son mix-up.
    else if (suffixConflict || (dobConflict && !streetAgrees)) cls = 'review';
    // Another first name at the same address is most often a family member; only a personal field
    // (date of birth, email) can say the first name is the error.
    else if (givenConflict && !personal) cls = 'review';
  }
  return { score, class: cls, weight: Math.round(weight * 100) / 100, reasons };
}

// Scratch space for scoreRpc: one entry is scored at a time and the sides never leave the call.
const scratchCols = new Array<string>(SLOTS).fill('');
const scratchOwn = emptySide();
const scratchContact = emptySide();

/** rpc_score step: compares the entry's person with its candidate contact (contact_* columns). */
export function scoreRpc(entry: Row, options: RpcOptions = NO_OPTIONS): RpcResult {
  readColumns(entry, scratchCols);
  const contact = fillSide(scratchCols, true, scratchContact);
  if (!hasRpcFields(contact)) return SKIPPED();
  return compareRpcSides(fillSide(scratchCols, false, scratchOwn), contact, options);
}
