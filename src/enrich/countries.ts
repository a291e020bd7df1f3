// Country names or codes, as uploaded, to ISO 3166-1 alpha-2 codes.
import countries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json' with { type: 'json' };

countries.registerLocale(en);

// The alpha-2 code for an ISO alpha-2 or alpha-3 code or an English country name (or alias), else null.
export function toCountryCode(value: string): string | null {
  const text = value.trim();
  const upper = text.toUpperCase();
  if (/^[A-Z]{2}$/.test(upper) && countries.isValid(upper)) return upper;
  if (/^[A-Z]{3}$/.test(upper)) {
    const code = countries.alpha3ToAlpha2(upper);
    if (code !== undefined) return code;
  }
  // Names and common aliases ("UK", "Great Britain"), which are not ISO codes.
  return countries.getAlpha2Code(text, 'en') ?? null;
}
