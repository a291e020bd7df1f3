// A lookup's input from an entry, normalised, and the cache key it is stored under.
import { registrableDomain } from '../../enrich/domains.js';
import { column, type Entry } from '../../enrich/entry.js';
import { parseFullName, parseNameParts } from '../../enrich/names/normalize.js';
import { normalizePhone } from '../../enrich/steps/phone-normalization.js';
import type { LookupInput, LookupWant } from '../provider.js';

/**
 * What a provider is asked about an entry: lower-cased email, registrable domain (from
 * `domain`, else the email's), E.164 phone, and the parsed name (first given name and
 * surname, without honorifics or suffixes).
 */
export function lookupInputOf(entry: Entry, want: LookupWant): LookupInput {
  const input: LookupInput = { want };
  const email = column(entry, 'email')?.toLowerCase();
  if (email && email.includes('@')) input.email = email;
  const domain = registrableDomain(column(entry, 'domain') ?? '') ?? (email ? registrableDomain(email.slice(email.lastIndexOf('@') + 1)) : null);
  if (domain) input.domain = domain;
  const company = column(entry, 'company');
  if (company) input.company = company;
  const phone = normalizePhone(entry);
  if (phone?.e164) input.phone = phone.e164;
  const first = column(entry, 'first_name');
  const last = column(entry, 'last_name');
  const full = column(entry, 'full_name');
  if (first) input.firstName = first;
  if (last) input.lastName = last;
  if (full) input.fullName = full;
  else if (first && last) input.fullName = `${first} ${last}`;
  const linkedin = column(entry, 'linkedin_url') ?? column(entry, 'linkedin');
  if (linkedin) input.linkedinUrl = linkedin;
  return input;
}

/** The parsed name as `given surname` (accents, honorifics, suffix dropped from the key, not from the question). */
function nameKey(input: LookupInput): string | undefined {
  const parsed =
    input.firstName !== undefined || input.lastName !== undefined
      ? parseNameParts(input.firstName ?? '', input.lastName ?? '')
      : input.fullName !== undefined
        ? parseFullName(input.fullName)
        : null;
  if (!parsed || (parsed.given === '' && parsed.surname === '')) return undefined;
  return `${parsed.given} ${parsed.surname}${parsed.suffix ? ` ${parsed.suffix}` : ''}`;
}

/** The cache key of an input: its normalised fields in a fixed order (what the provider is asked). */
export function inputKey(input: LookupInput): string {
  const parts: [string, string | undefined][] = [
    ['w', input.want],
    ['e', input.email],
    ['d', input.domain],
    ['p', input.phone],
    ['n', nameKey(input)],
    ['c', input.company?.trim().toLowerCase()],
    ['li', input.linkedinUrl?.trim().toLowerCase()],
  ];
  return JSON.stringify(parts.filter(([, v]) => v !== undefined && v !== ''));
}
