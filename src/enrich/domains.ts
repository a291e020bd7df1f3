// Domain facts shared by the steps: registrable domains (public suffix list) and mail-provider data.
import { domainToASCII } from 'node:url';
import { disposableEmailBlocklistSet } from 'disposable-email-domains-js';
import { parse } from 'tldts';
import freeProviders from 'email-providers/all.json' with { type: 'json' };

// Loaded once: the steps run per entry, over lists of millions.
const DISPOSABLE: ReadonlySet<string> = disposableEmailBlocklistSet();
const FREE_MAIL: ReadonlySet<string> = new Set(freeProviders.map((d) => d.toLowerCase()));

// The ASCII (punycode) form of a host name, or null when it is not a valid IDN.
export function asciiHost(host: string): string | null {
  const ascii = domainToASCII(host.trim().toLowerCase());
  return ascii === '' ? null : ascii;
}

// The registrable domain of a host, URL or address, or null when it has no known public suffix.
export function registrableDomain(input: string): string | null {
  const host = parse(input.trim()).hostname;
  const ascii = host === null ? null : asciiHost(host);
  if (ascii === null) return null;
  // Private suffixes count so that "acme.vercel.app" stays the company's, not Vercel's; tldts
  // answers unknown TLDs with its "*" rule, which is neither ICANN nor private.
  const parsed = parse(ascii, { allowPrivateDomains: true });
  if (parsed.isIp || !(parsed.isIcann || parsed.isPrivate)) return null;
  return parsed.domain;
}

// Whether a domain, or the registrable domain above it, is a known throwaway-inbox service.
export function isDisposableDomain(domain: string): boolean {
  if (DISPOSABLE.has(domain)) return true;
  const registrable = registrableDomain(domain);
  return registrable !== null && DISPOSABLE.has(registrable);
}

// Whether a domain is a free consumer mail provider (disposable services excluded: they report as disposable).
export function isFreeMailDomain(domain: string): boolean {
  return FREE_MAIL.has(domain) && !isDisposableDomain(domain);
}
