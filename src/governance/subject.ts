// The person an erasure is about: normalised identifiers, and whether (and how) a stored value
// or an entry refers to them. Pure: no I/O.
import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** What an erasure request names, as given. */
export interface SubjectRequest {
  email?: string;
  phone?: string;
  externalId?: string;
}

/** The normalised identifiers. Emails compare lower-cased; phones by their digits. */
export interface Subject {
  /** lower-cased, trimmed */
  email?: string;
  phone?: {
    /** E.164 ("+14155550100") */
    e164: string;
    /** its digits ("14155550100") */
    digits: string;
    /** the national significant number's digits ("4155550100") */
    national: string;
  };
  /** trimmed, compared exactly */
  externalId?: string;
}

/** The text that replaces a redacted value. */
export const REDACTED = '[erased]';

/** A phone as E.164: parsed as written (international) or as a US number; null when it has too few digits. */
export function normalisePhone(raw: string): Subject['phone'] | null {
  const parsed = parsePhoneNumberFromString(raw.trim(), 'US');
  const digits = raw.replace(/\D/g, '');
  if (parsed) {
    const e164 = parsed.number;
    return { e164, digits: e164.slice(1), national: String(parsed.nationalNumber) };
  }
  if (digits.length < 7) return null;
  return { e164: `+${digits}`, digits, national: digits };
}

/** The request's identifiers normalised (the caller has checked each one). */
export function subjectOf(req: SubjectRequest): Subject {
  const s: Subject = {};
  if (req.email !== undefined) s.email = req.email.trim().toLowerCase();
  if (req.phone !== undefined) {
    const phone = normalisePhone(req.phone);
    if (phone) s.phone = phone;
  }
  if (req.externalId !== undefined) s.externalId = req.externalId.trim();
  return s;
}

/** Whether a value's digits are the subject's phone (international or national form). */
function phoneMatches(s: Subject, text: string): boolean {
  if (!s.phone) return false;
  const digits = text.replace(/\D/g, '');
  if (digits.length < 7 || !/^[\d\s+().\-/]+$/.test(text.trim())) return false;
  return digits === s.phone.digits || digits === s.phone.national;
}

/** Whether a stored text refers to the subject. */
export function textMatches(s: Subject, text: string): boolean {
  if (s.email !== undefined && text.toLowerCase().includes(s.email)) return true;
  if (s.externalId !== undefined && text.trim() === s.externalId) return true;
  return phoneMatches(s, text);
}

/** The text with every mention of the subject removed: an email is cut out of a longer text, anything else replaced whole. */
export function redactText(s: Subject, text: string): string {
  if (!textMatches(s, text)) return text;
  if (s.email !== undefined && text.toLowerCase().includes(s.email)) {
    const lower = text.toLowerCase();
    let out = '';
    let from = 0;
    for (let at = lower.indexOf(s.email); at >= 0; at = lower.indexOf(s.email, from)) {
      out += text.slice(from, at) + REDACTED;
      from = at + s.email.length;
    }
    out += text.slice(from);
    return textMatches(s, out) ? REDACTED : out;
  }
  return REDACTED;
}

/** A JSON value with every matching string (and object key) redacted; `changed` says whether anything was. */
export function redactJson(s: Subject, value: unknown): { value: unknown; changed: boolean } {
  if (typeof value === 'string') {
    const out = redactText(s, value);
    return { value: out, changed: out !== value };
  }
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const r = redactJson(s, v);
      changed ||= r.changed;
      return r.value;
    });
    return { value: out, changed };
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = redactText(s, k);
      const r = redactJson(s, v);
      changed ||= r.changed || key !== k;
      out[key] = r.value;
    }
    return { value: out, changed };
  }
  return { value, changed: false };
}

const own = (data: Record<string, unknown>, name: string): string[] =>
  Object.entries(data).filter(([k, v]) => k.trim().toLowerCase() === name && typeof v === 'string').map(([, v]) => v as string);

/** Whether an entry is about the subject (its own email, phone or external_id), not merely mentioning them. */
export function isSubjectEntry(s: Subject, data: Record<string, unknown>): boolean {
  if (s.email !== undefined && own(data, 'email').some((v) => v.trim().toLowerCase() === s.email)) return true;
  if (s.externalId !== undefined && own(data, 'external_id').some((v) => v.trim() === s.externalId)) return true;
  return own(data, 'phone').some((v) => phoneMatches(s, v));
}

/** The patterns that find candidate rows in SQL (confirmed in code): lower-cased text LIKE, digits LIKE, text LIKE. */
export function candidatePatterns(s: Subject): { email: string | null; phone: string | null; externalId: string | null } {
  const like = (t: string) => `%${t.replace(/[\\%_]/g, '\\$&')}%`;
  return {
    email: s.email !== undefined ? like(JSON.stringify(s.email).slice(1, -1)) : null,
    phone: s.phone ? like(s.phone.national) : null,
    externalId: s.externalId !== undefined ? like(JSON.stringify(s.externalId)) : null,
  };
}
