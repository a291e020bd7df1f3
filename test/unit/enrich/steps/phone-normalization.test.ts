import { describe, expect, it } from 'vitest';
import { normalizePhone } from '../../../../src/enrich/steps/phone-normalization.js';

describe('normalizePhone', () => {
  it('skips an entry without a phone', () => {
    expect(normalizePhone({ email: 'a@acme.io' })).toBeNull();
    expect(normalizePhone({ phone: '' })).toBeNull();
  });

  it('reads a national number as US when nothing says otherwise', () => {
    expect(normalizePhone({ Phone: '(201) 555-0123' })).toEqual({ e164: '+12015550123', valid: true, type: 'FIXED_LINE_OR_MOBILE', country: 'US' });
  });

  it('uses the defaultCountry option before the entry country', () => {
    expect(normalizePhone({ phone: '020 7946 0958', country: 'US' }, { defaultCountry: 'GB' })).toMatchObject({ e164: '+442079460958', valid: true, country: 'GB' });
  });

  it('ignores an unusable defaultCountry and falls back to the entry country', () => {
    expect(normalizePhone({ phone: '020 7946 0958', country: 'GB' }, { defaultCountry: 'XX' })?.e164).toBe('+442079460958');
  });

  it.each(['United Kingdom', 'gb', 'GBR', 'UK'])('reads the entry country %s', (country) => {
    expect(normalizePhone({ phone: '07400 123456', COUNTRY: country })).toMatchObject({ e164: '+447400123456', country: 'GB' });
  });

  it('honours an international prefix over the default country', () => {
    expect(normalizePhone({ phone: '+44 7400 123456' })).toMatchObject({ e164: '+447400123456', country: 'GB', valid: true });
  });

  it('tells mobile from fixed lines', () => {
    expect(normalizePhone({ phone: '07400 123456' }, { defaultCountry: 'GB' })?.type).toBe('MOBILE');
    expect(normalizePhone({ phone: '020 7946 0958' }, { defaultCountry: 'GB' })?.type).toBe('FIXED_LINE');
  });

  it('accepts a numeric JSON value', () => {
    expect(normalizePhone({ phone: 2015550123 })?.e164).toBe('+12015550123');
  });

  it.each(['12', 'not a phone', '+1 000 000 0000'])('reports %s as invalid without an E.164 form', (phone) => {
    expect(normalizePhone({ phone })).toMatchObject({ e164: null, valid: false, type: null });
  });
});
