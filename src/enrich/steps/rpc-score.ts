// rpc_score step: is the candidate contact the right party (rpc) for the list entry's person, the
// wrong party (wpc), or unclear (review)? Fellegi-Sunter style: each field both sides carry lands
// on an agreement level worth a log2 likelihood ratio (how much likelier that level is for the same
// person than for two different people); the ratios add up and a logistic maps the sum to 0..100.
import { columnMap } from '../entry.js';
import { jaroWinkler } from '../names/jaro-winkler.js';
import { rootsIntersect } from '../names/nicknames.js';
import { type ParsedName, isEmptyName, normalizeText, parseFullName, parseNameParts } from '../names/normalize.js';

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

// Defaults chosen on FEBRL4 even record numbers (bench/rpc-eval.ts, whole record): score >= 90 had
// precision 1.000 at recall 0.998; below 30 fewer than 0.1% of true pairs remained.
export const DEFAULT_RPC_THRESHOLD = 90;
export const DEFAULT_WPC_THRESHOLD = 30;
// Sum of weights at which the score is 50, i.e. minus log2 of the prior odds that a candidate pair is
// the same person. FEBRL4 candidates are 1 in 37 (5.2); summed weights are overconfident because
// fields are not independent, so the offset sits higher, where the best F1 threshold fell on even N.
const PRIOR_OFFSET = 8;

// Weights, log2(m/u). m (same person) reflects typing errors, moves and missing data; u (different
// people) reflects how often strangers agree by chance. Hand-set, then checked on FEBRL4 even N.
const W = {
  given: { exact: 6, nickname: 5, close: 5.5, similar: 3, similarLow: 1, initial: 1.5, disagree: -3.5 },
  surname: { exact: 6.5, compound: 5, close: 6, similar: 3.5, similarLow: 1.5, disagree: -4.5 },
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
} as const;

// Jaro-Winkler bands for names: at 0.94 and above a typo is the likely story; 0.85 to 0.94 is weaker.
const JW_CLOSE = 0.94;
const JW_SIMILAR = 0.85;
// Below the similar band the penalty still eases with similarity: scrambled names ("Ethan"/"Etnah")
// keep more letters in common than strangers' names do.
const JW_FLOOR = 0.5;

/** One side of the comparison, normalised once so pairs can be scored without re-parsing. */
export interface RpcSide {
  name: ParsedName | null;
  dob: string;
  postcode: string;
  city: string;
  state: string;
  streetNumber: string;
  street: string;
  streetTokens: string[];
  phone: string;
  email: string;
}

type Row = Readonly<Record<string, unknown>>;

/** Normalises a date of birth to YYYYMMDD; CONTRACT.md's forms: YYYY-MM-DD, YYYYMMDD, MM/DD/YYYY. '' when unreadable. */
export function normalizeDob(raw: string): string {
  const s = raw.trim();
  if (s.length === 0) return '';
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

/** Reads and normalises one side of an entry: own columns with prefix '', the contact with 'contact_'. */
export function prepareRpcSide(entry: Row, prefix: '' | 'contact_'): RpcSide {
  return prepareFromMap(columnMap(entry), prefix);
}

function prepareFromMap(cols: Map<string, string>, prefix: '' | 'contact_'): RpcSide {
  const get = (k: string): string => cols.get(prefix + k) ?? '';
  const first = get('first_name');
  const last = get('last_name');
  const full = prefix === '' ? get('full_name') : get('name') || get('full_name');
  let name: ParsedName | null = null;
  if (first.length > 0 || last.length > 0) name = parseNameParts(first, last);
  else if (full.length > 0) name = parseFullName(full);
  if (name !== null && isEmptyName(name)) name = null;
  const address = normalizeText(get('address')).replace(/,/g, ' ');
  const addrTokens = address.length > 0 ? address.split(' ').filter((t) => t.length > 0) : [];
  const numberTok = addrTokens.find((t) => /[0-9]/.test(t)) ?? '';
  const streetTokens = addrTokens.filter((t) => !/[0-9]/.test(t));
  return {
    name,
    dob: normalizeDob(get('dob')),
    postcode: get('postcode').toLowerCase().replace(/[^a-z0-9]/g, ''),
    city: normalizeText(get('city')).replace(/,/g, ' '),
    state: normalizeText(get('state')).replace(/,/g, ' '),
    streetNumber: numberTok.replace(/[^0-9]/g, ''),
    street: streetTokens.join(' '),
    streetTokens,
    phone: get('phone').replace(/[^0-9]/g, ''),
    email: get('email').toLowerCase(),
  };
}

/** Whether a side carries anything the scorer can compare. */
export function hasRpcFields(s: RpcSide): boolean {
  return (
    s.name !== null || s.dob !== '' || s.postcode !== '' || s.city !== '' || s.state !== '' ||
    s.street !== '' || s.streetNumber !== '' || s.phone !== '' || s.email !== ''
  );
}

interface Level {
  level: string;
  weight: number;
}

// Within a Jaro-Winkler band the weight slides with the similarity, so near-exact typos rank above
// looser ones instead of tying.
function band(jw: number, lo: number, hi: number, wLo: number, wHi: number): number {
  const t = (jw - lo) / (hi - lo);
  return wLo + (wHi - wLo) * (t > 1 ? 1 : t < 0 ? 0 : t);
}

function compareGiven(a: string, aRoots: readonly string[], b: string, bRoots: readonly string[]): Level | null {
  if (a.length === 0 || b.length === 0) return null;
  if (a === b) return { level: 'exact', weight: W.given.exact };
  if (a.length === 1 || b.length === 1) {
    return a.charCodeAt(0) === b.charCodeAt(0) ? { level: 'initial', weight: W.given.initial } : { level: 'disagree', weight: W.given.disagree };
  }
  if (aRoots.length > 0 && bRoots.length > 0 && rootsIntersect(aRoots, bRoots)) return { level: 'nickname', weight: W.given.nickname };
  // Short names lose too much Jaro-Winkler to one slip ("jonh" is 0.93), so a single slip is close outright.
  if (a.length >= 3 && oneTypo(a, b)) return { level: 'close', weight: W.given.close - 1 };
  const jw = jaroWinkler(a, b);
  if (jw >= JW_CLOSE) return { level: 'close', weight: band(jw, JW_CLOSE, 1, W.given.similar, W.given.close) };
  if (jw >= JW_SIMILAR) return { level: 'similar', weight: band(jw, JW_SIMILAR, JW_CLOSE, W.given.similarLow, W.given.similar) };
  return { level: 'disagree', weight: band(jw, JW_FLOOR, JW_SIMILAR, W.given.disagree, W.given.similarLow - 1) };
}

function compareSurname(a: ParsedName, b: ParsedName): Level | null {
  if (a.surname.length === 0 || b.surname.length === 0) return null;
  if (a.surname === b.surname) return { level: 'exact', weight: W.surname.exact };
  // Compound surnames: "Garcia-Lopez" against "Garcia" or "Lopez" is one of the parents' names kept.
  if (a.surnameParts.length > 1 || b.surnameParts.length > 1) {
    for (const p of a.surnameParts) for (const q of b.surnameParts) if (p === q && p.length > 1) return { level: 'compound', weight: W.surname.compound };
  }
  return surnameJw(a.surname, b.surname);
}

function surnameJw(a: string, b: string): Level | null {
  if (a.length === 0 || b.length === 0) return null;
  if (a === b) return { level: 'exact', weight: W.surname.exact };
  if (a.length >= 3 && oneTypo(a, b)) return { level: 'close', weight: W.surname.close - 1 };
  const jw = jaroWinkler(a, b);
  if (jw >= JW_CLOSE) return { level: 'close', weight: band(jw, JW_CLOSE, 1, W.surname.similar, W.surname.close) };
  if (jw >= JW_SIMILAR) return { level: 'similar', weight: band(jw, JW_SIMILAR, JW_CLOSE, W.surname.similarLow, W.surname.similar) };
  return { level: 'disagree', weight: band(jw, JW_FLOOR, JW_SIMILAR, W.surname.disagree, W.surname.similarLow - 1) };
}

// Weight of a name part only one side carries (see compareNames).
const ONE_SIDED_NAME = -2;

function oneSided(a: string, b: string): Level | null {
  return (a.length === 0) === (b.length === 0) ? null : { level: 'one_side', weight: ONE_SIDED_NAME };
}
const NO_ROOTS: readonly string[] = [];

function compareNames(a: ParsedName, b: ParsedName, reasons: RpcReason[]): void {
  const g = compareGiven(a.given, a.givenRoots, b.given, b.givenRoots);
  const s = compareSurname(a, b);
  // A name part one side lacks counts against the pair a little: with only half a name to go on,
  // namesakes are far more common than the other part's agreement suggests.
  const gm = g ?? oneSided(a.given, b.given);
  const sm = s ?? oneSided(a.surname, b.surname);
  const direct = (gm?.weight ?? 0) + (sm?.weight ?? 0);
  // Given name and surname entered the other way round: a common data-entry slip.
  const gx = compareGiven(a.given, NO_ROOTS, b.surname, NO_ROOTS) ?? oneSided(a.given, b.surname);
  const sx = surnameJw(a.surname, b.given) ?? oneSided(a.surname, b.given);
  const swapped = (gx?.weight ?? 0) + (sx?.weight ?? 0) + W.swapped;
  const [first, last] = swapped > direct && (gx !== null || sx !== null) ? [gx, sx] : [gm, sm];
  if (first === gx && last === sx && (gx !== gm || sx !== sm)) reasons.push({ field: 'name_order', level: 'swapped', weight: W.swapped });
  if (first !== null) reasons.push({ field: 'first_name', level: first.level, weight: first.weight });
  if (last !== null) reasons.push({ field: 'last_name', level: last.level, weight: last.weight });
  const am = a.middles[0];
  const bm = b.middles[0];
  if (am !== undefined && bm !== undefined) {
    const same = am.charCodeAt(0) === bm.charCodeAt(0);
    reasons.push({ field: 'middle_name', level: same ? 'exact' : 'disagree', weight: same ? W.middle.exact : W.middle.disagree });
  }
  // A differing generational suffix is strong evidence of father and son sharing a name.
  if (a.suffix !== b.suffix) {
    const both = a.suffix !== '' && b.suffix !== '';
    reasons.push({ field: 'suffix', level: both ? 'disagree' : 'one_side', weight: both ? W.suffix.disagree : W.suffix.one_side });
  }
}

// One keying slip in a code of fixed length: a single wrong character or two neighbours swapped.
function oneTypo(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let first = -1;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    if (a.charCodeAt(i) === b.charCodeAt(i)) continue;
    if (++diff > 2) return false;
    if (first < 0) first = i;
  }
  if (diff <= 1) return true;
  return a.charCodeAt(first) === b.charCodeAt(first + 1) && a.charCodeAt(first + 1) === b.charCodeAt(first);
}

function compareDob(a: string, b: string): Level {
  if (a === b) return { level: 'exact', weight: W.dob.exact };
  const ya = a.slice(0, 4);
  if (ya === b.slice(0, 4) && a.slice(4, 6) === b.slice(6, 8) && a.slice(6, 8) === b.slice(4, 6)) return { level: 'transposed', weight: W.dob.transposed };
  if (oneTypo(a, b)) return { level: 'one_typo', weight: W.dob.one_typo };
  if (ya === b.slice(0, 4)) return { level: 'same_year', weight: W.dob.same_year };
  return { level: 'disagree', weight: W.dob.disagree };
}

function compareStreet(a: RpcSide, b: RpcSide): Level {
  if (a.street === b.street) return { level: 'exact', weight: W.street.exact };
  if (jaroWinkler(a.street, b.street) >= 0.9) return { level: 'similar', weight: W.street.similar };
  for (const t of a.streetTokens) if (t.length > 2 && b.streetTokens.includes(t)) return { level: 'partial', weight: W.street.partial };
  return { level: 'disagree', weight: W.street.disagree };
}

function push(reasons: RpcReason[], field: string, l: Level): void {
  reasons.push({ field, level: l.level, weight: l.weight });
}

// Fields that pin down one person among namesakes; city and state agree for many strangers.
const IDENTIFYING_FIELDS = new Set(['dob', 'postcode', 'street_number', 'address', 'phone', 'email']);

/** Scores two prepared sides; what scoreRpc runs once the entry is read. */
export function compareRpcSides(a: RpcSide, b: RpcSide, options: RpcOptions = {}): RpcResult {
  if (!hasRpcFields(b)) return { class: null, skipped: 'no_contact' };
  const reasons: RpcReason[] = [];
  if (a.name !== null && b.name !== null) compareNames(a.name, b.name, reasons);
  if (a.dob !== '' && b.dob !== '') push(reasons, 'dob', compareDob(a.dob, b.dob));
  if (a.postcode !== '' && b.postcode !== '') {
    push(reasons, 'postcode', a.postcode === b.postcode ? { level: 'exact', weight: W.postcode.exact } : oneTypo(a.postcode, b.postcode) ? { level: 'one_typo', weight: W.postcode.one_typo } : { level: 'disagree', weight: W.postcode.disagree });
  }
  if (a.city !== '' && b.city !== '') {
    push(reasons, 'city', a.city === b.city ? { level: 'exact', weight: W.city.exact } : jaroWinkler(a.city, b.city) >= 0.9 ? { level: 'similar', weight: W.city.similar } : { level: 'disagree', weight: W.city.disagree });
  }
  if (a.state !== '' && b.state !== '') push(reasons, 'state', a.state === b.state ? { level: 'exact', weight: W.state.exact } : { level: 'disagree', weight: W.state.disagree });
  if (a.streetNumber !== '' && b.streetNumber !== '') {
    push(reasons, 'street_number', a.streetNumber === b.streetNumber ? { level: 'exact', weight: W.streetNumber.exact } : { level: 'disagree', weight: W.streetNumber.disagree });
  }
  if (a.street !== '' && b.street !== '') push(reasons, 'address', compareStreet(a, b));
  if (a.phone.length >= 7 && b.phone.length >= 7) {
    const level: Level =
      a.phone.slice(-9) === b.phone.slice(-9) ? { level: 'exact', weight: W.phone.exact }
      : a.phone.slice(-7) === b.phone.slice(-7) ? { level: 'partial', weight: W.phone.partial }
      : { level: 'disagree', weight: W.phone.disagree };
    push(reasons, 'phone', level);
  }
  if (a.email !== '' && b.email !== '') {
    const la = a.email.split('@')[0] ?? '';
    push(reasons, 'email', a.email === b.email ? { level: 'exact', weight: W.email.exact } : la.length > 2 && la === b.email.split('@')[0] ? { level: 'local_part', weight: W.email.local_part } : { level: 'disagree', weight: W.email.disagree });
  }
  let weight = 0;
  let identified = false;
  let suffixConflict = false;
  for (const r of reasons) {
    if (r.field === 'suffix' && r.level === 'disagree') suffixConflict = true;
    weight += r.weight;
    if (r.weight > 0 && IDENTIFYING_FIELDS.has(r.field)) identified = true;
  }
  const score = Math.round(10000 / (1 + Math.pow(2, PRIOR_OFFSET - weight))) / 100;
  const rpcAt = options.rpcThreshold ?? DEFAULT_RPC_THRESHOLD;
  const wpcBelow = options.wpcThreshold ?? DEFAULT_WPC_THRESHOLD;
  let cls: 'rpc' | 'wpc' | 'review' = score >= rpcAt ? 'rpc' : score < wpcBelow ? 'wpc' : 'review';
  // Names, even with city or state, cannot carry a right-party decision (on FEBRL4 an exact full-name
  // match is the same person only 87% of the time): without an agreeing identifying field, review.
  if (cls === 'rpc' && !identified) cls = 'review';
  // Jr against Sr at the same address is the classic father/son mix-up: never call it the right party.
  if (cls === 'rpc' && suffixConflict) cls = 'review';
  return { score, class: cls, weight: Math.round(weight * 100) / 100, reasons };
}

/** rpc_score step: compares the entry's person with its candidate contact (contact_* columns). */
export function scoreRpc(entry: Row, options: RpcOptions = {}): RpcResult {
  const cols = columnMap(entry);
  const contact = prepareFromMap(cols, 'contact_');
  if (!hasRpcFields(contact)) return { class: null, skipped: 'no_contact' };
  return compareRpcSides(prepareFromMap(cols, ''), contact, options);
}
