// The `company_domain` step: the registrable domain of an entry's company.
import { isFreeMailDomain, registrableDomain } from '../domains.js';
import { column, type Entry } from '../entry.js';

export interface CompanyDomainResult {
  domain: string;
  freeMail: boolean;
}

// A host or URL: no spaces, and a dot or a scheme; "Acme Inc" and "Smith & Sons" are names, not domains.
const DOMAIN_LIKE = /^(?:[a-z][a-z0-9+.-]*:\/\/)?[^\s/@]+\.[^\s/@]+(?:[/?#]\S*)?$/i;

function emailDomain(email: string | null): string | null {
  const at = email?.lastIndexOf('@') ?? -1;
  return email && at >= 0 ? email.slice(at + 1) : null;
}

// Finds the entry's registrable company domain from `domain`, else `email`, else a domain-like
// `company`; null when none yields one (the step is skipped).
export function companyDomain(entry: Entry): CompanyDomainResult | null {
  const company = column(entry, 'company');
  const candidates = [column(entry, 'domain'), emailDomain(column(entry, 'email')), company !== null && DOMAIN_LIKE.test(company) ? company : null];
  for (const candidate of candidates) {
    const domain = candidate === null ? null : registrableDomain(candidate);
    if (domain !== null) return { domain, freeMail: isFreeMailDomain(domain) };
  }
  return null;
}
