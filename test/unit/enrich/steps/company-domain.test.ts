import { describe, expect, it } from 'vitest';
import { companyDomain } from '../../../../src/enrich/steps/company-domain.js';

describe('companyDomain', () => {
  it('reduces a URL to its registrable domain', () => {
    expect(companyDomain({ domain: 'https://www.Example.co.uk/path' })).toEqual({ domain: 'example.co.uk', freeMail: false });
  });

  it('strips subdomains', () => {
    expect(companyDomain({ Domain: 'eu.shop.acme.io' })?.domain).toBe('acme.io');
  });

  it('keeps a company site under a private suffix', () => {
    expect(companyDomain({ domain: 'acme.vercel.app' })?.domain).toBe('acme.vercel.app');
  });

  it('falls back to the email domain', () => {
    expect(companyDomain({ email: 'jane@mail.acme.io', company: 'Other Co' })).toEqual({ domain: 'acme.io', freeMail: false });
  });

  it('prefers the domain column to the email', () => {
    expect(companyDomain({ domain: 'acme.io', email: 'jane@gmail.com' })?.domain).toBe('acme.io');
  });

  it('marks free-mail domains', () => {
    expect(companyDomain({ email: 'jane@gmail.com' })).toEqual({ domain: 'gmail.com', freeMail: true });
  });

  it('uses a company column that looks like a domain or URL', () => {
    expect(companyDomain({ company: 'www.acme.de' })?.domain).toBe('acme.de');
    expect(companyDomain({ company: 'http://acme.com/about' })?.domain).toBe('acme.com');
  });

  it.each([{ company: 'Acme Inc' }, { company: 'Acme Co.' }, { domain: 'garbage' }, { domain: 'a.invalidtld' }, { email: 'not-an-email' }, {}])(
    'skips when nothing yields a domain: %j',
    (entry) => {
      expect(companyDomain(entry)).toBeNull();
    },
  );
});
