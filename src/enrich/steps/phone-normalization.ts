// The `phone_normalization` step: an entry's phone number in E.164, with its validity and line type.
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode, type NumberType } from 'libphonenumber-js/max';
import { toCountryCode } from '../countries.js';
import { column, type Entry } from '../entry.js';

export interface PhoneNormalizationOptions {
  // ISO 3166-1 alpha-2 code (a name is accepted too) for numbers written without a country prefix.
  defaultCountry?: string;
}

export interface PhoneNormalizationResult {
  e164: string | null;
  valid: boolean;
  type: NonNullable<NumberType> | null;
  country: string | null;
}

function phoneCountry(value: string | null | undefined): CountryCode | null {
  const code = value ? toCountryCode(value) : null;
  return code !== null && isSupportedCountry(code) ? code : null;
}

// Normalises the entry's `phone` column; null when the entry has no phone (the step is skipped).
export function normalizePhone(entry: Entry, options: PhoneNormalizationOptions = {}): PhoneNormalizationResult | null {
  const raw = column(entry, 'phone');
  if (raw === null) return null;
  // An unusable option falls through to the entry's country rather than failing every entry.
  const defaultCountry = phoneCountry(options.defaultCountry) ?? phoneCountry(column(entry, 'country')) ?? 'US';
  const phone = parsePhoneNumberFromString(raw, defaultCountry);
  if (phone === undefined) return { e164: null, valid: false, type: null, country: null };
  const valid = phone.isValid();
  // E.164 only for valid numbers, so nothing downstream dials or matches on a guessed form.
  return { e164: valid ? phone.number : null, valid, type: valid ? (phone.getType() ?? null) : null, country: phone.country ?? null };
}
