// The `email_validation` step: offline checks of an entry's email address (no DNS, no SMTP).
import { createRequire } from 'node:module';
import { asciiHost, isDisposableDomain, isFreeMailDomain, registrableDomain } from '../domains.js';
import { column, type Entry } from '../entry.js';

export type EmailStatus = 'valid' | 'invalid' | 'risky';
export type EmailReason = 'syntax' | 'no_public_suffix' | 'disposable' | 'role_account';

export interface EmailValidationResult {
  email: string;
  status: EmailStatus;
  syntax: boolean;
  disposable: boolean;
  role: boolean;
  freeMail: boolean;
  domain: string | null;
  reasons: EmailReason[];
}

// The package ships CommonJS without types, so its export is checked rather than trusted.
const roleLocalParts: unknown = createRequire(import.meta.url)('role-based-email-addresses');
if (!Array.isArray(roleLocalParts)) throw new Error('role-based-email-addresses: expected an array of local parts');
const ROLE_LOCAL_PARTS: ReadonlySet<string> = new Set(
  roleLocalParts.filter((r): r is string => typeof r === 'string').map((r) => r.toLowerCase()),
);

// RFC 5321/5322 dot-atom local part; non-ASCII letters are allowed for internationalised mail (RFC 6531).
const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function domainSyntaxOk(ascii: string): boolean {
  if (ascii.length > 253) return false;
  const labels = ascii.split('.');
  // A bare TLD or an all-numeric TLD (an IPv4 address) is not a mail domain.
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1] ?? '');
}

function statusOf(reasons: readonly EmailReason[]): EmailStatus {
  if (reasons.includes('syntax') || reasons.includes('no_public_suffix')) return 'invalid';
  // A disposable inbox still accepts mail today but will not reach the person later, and a role
  // account reaches whoever reads it: both deliverable, neither a reliable personal contact.
  if (reasons.length > 0) return 'risky';
  return 'valid';
}

// Validates the entry's `email` column; null when the entry has no email (the step is skipped).
export function validateEmail(entry: Entry): EmailValidationResult | null {
  const raw = column(entry, 'email');
  if (raw === null) return null;
  const normalised = raw.toLowerCase();
  const at = normalised.lastIndexOf('@');
  const local = at > 0 ? normalised.slice(0, at) : '';
  const rawDomain = at >= 0 ? normalised.slice(at + 1) : '';
  const ascii = rawDomain === '' ? null : asciiHost(rawDomain);
  const domain = ascii ?? (rawDomain === '' ? null : rawDomain);
  const email = ascii === null ? normalised : `${local}@${ascii}`;

  const syntax = local.length > 0 && local.length <= 64 && LOCAL_PART.test(local) && ascii !== null && domainSyntaxOk(ascii) && email.length <= 254;
  const hasSuffix = ascii !== null && registrableDomain(ascii) !== null;
  const disposable = domain !== null && isDisposableDomain(domain);
  // Sub-addressing ("sales+eu@") still lands in the role mailbox.
  const role = ROLE_LOCAL_PARTS.has(local.split('+')[0] ?? '');
  const freeMail = domain !== null && isFreeMailDomain(domain);

  const reasons: EmailReason[] = [];
  if (!syntax) reasons.push('syntax');
  if (!hasSuffix) reasons.push('no_public_suffix');
  if (disposable) reasons.push('disposable');
  if (role) reasons.push('role_account');
  return { email, status: statusOf(reasons), syntax, disposable, role, freeMail, domain, reasons };
}
