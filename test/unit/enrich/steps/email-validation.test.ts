import { describe, expect, it } from 'vitest';
import { validateEmail } from '../../../../src/enrich/steps/email-validation.js';

const check = (email: unknown) => validateEmail({ email });

describe('validateEmail', () => {
  it('skips an entry without an email', () => {
    expect(validateEmail({ name: 'x' })).toBeNull();
    expect(check('   ')).toBeNull();
  });

  it('accepts a plain personal address', () => {
    expect(check('jane.doe@acme.io')).toEqual({
      email: 'jane.doe@acme.io', status: 'valid', syntax: true, disposable: false, role: false,
      freeMail: false, domain: 'acme.io', reasons: [],
    });
  });

  it('lower-cases and trims, and reads the column case-insensitively', () => {
    const result = validateEmail({ EMAIL: '  Jane.Doe@ACME.io ' });
    expect(result?.email).toBe('jane.doe@acme.io');
    expect(result?.status).toBe('valid');
  });

  it.each(['no-at-sign', 'two@@acme.io', '.dot@acme.io', 'a..b@acme.io', 'a@-acme.io', 'a@acme', 'a b@acme.io', 'a@1.2.3.4'])(
    'rejects bad syntax: %s',
    (email) => {
      const result = check(email);
      expect(result?.syntax).toBe(false);
      expect(result?.status).toBe('invalid');
      expect(result?.reasons).toContain('syntax');
    },
  );

  it('converts IDN domains to ASCII', () => {
    const result = check('anna@bücher.de');
    expect(result).toMatchObject({ email: 'anna@xn--bcher-kva.de', domain: 'xn--bcher-kva.de', syntax: true, status: 'valid' });
  });

  it('requires a public suffix', () => {
    expect(check('a@b.invalidtld')).toMatchObject({ syntax: true, status: 'invalid', reasons: ['no_public_suffix'] });
    expect(check('a@co.uk')?.reasons).toEqual(['no_public_suffix']);
  });

  it('flags disposable domains as risky', () => {
    expect(check('someone@mailinator.com')).toMatchObject({ disposable: true, freeMail: false, status: 'risky', reasons: ['disposable'] });
  });

  it.each(['info@acme.io', 'Sales@acme.io', 'sales+eu@acme.io'])('flags role accounts as risky: %s', (email) => {
    expect(check(email)).toMatchObject({ role: true, status: 'risky', reasons: ['role_account'] });
  });

  it('marks free mail without lowering the status', () => {
    expect(check('jane@gmail.com')).toMatchObject({ freeMail: true, status: 'valid', domain: 'gmail.com' });
  });
});
