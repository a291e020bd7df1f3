// The simulated world: who a lookup is about, whether a provider knows them, and their made-up details.
import { hex, pick, unit } from './hash.js';

/** A lookup as the simulator reads it from any provider's request. */
export interface SimInput {
  firstName?: string;
  lastName?: string;
  fullName?: string;
  domain?: string;
  company?: string;
  email?: string;
  linkedinUrl?: string;
  phone?: string;
}

/** A known person: every field a provider may answer. */
export interface SimPerson {
  id: string;
  firstName: string;
  lastName: string;
  fullName: string;
  email: string;
  phone: string;
  linkedinUrl: string;
  linkedinHandle: string;
  title: string;
  company: string;
  domain: string;
  score: number;
}

const FIRST = ['alex', 'maria', 'sam', 'priya', 'jordan', 'li', 'fatima', 'noah', 'elena', 'kofi'];
const LAST = ['smith', 'garcia', 'chen', 'okafor', 'novak', 'kim', 'silva', 'haddad', 'larsen', 'patel'];
const TITLES = ['Head of Sales', 'Software Engineer', 'Chief Financial Officer', 'Marketing Manager', 'Operations Director'];

const clean = (v: string | undefined) => (v ?? '').trim().toLowerCase();
const slug = (v: string) => v.toLowerCase().replace(/[^a-z0-9]+/g, '').slice(0, 30) || 'example';
const capitalise = (v: string) => (v === v.toLowerCase() ? v.replace(/(^|[\s-])(\p{L})/gu, (_m, sep: string, c: string) => sep + c.toUpperCase()) : v);

/**
 * The identity a hit/miss decision hangs on: the strongest key the request carries, so the
 * same person asked the same way always gets the same answer. Empty when there is none.
 */
export function identityKey(input: SimInput): string {
  const email = clean(input.email);
  if (email) return `email:${email}`;
  const linkedin = clean(input.linkedinUrl).replace(/^https?:\/\/(www\.)?/, '').replace(/\/+$/, '');
  if (linkedin) return `linkedin:${linkedin}`;
  const name = clean(input.fullName) || [clean(input.firstName), clean(input.lastName)].filter(Boolean).join(' ');
  const org = clean(input.domain) || clean(input.company);
  if (name && org) return `name:${name}@${org}`;
  const phone = clean(input.phone);
  if (phone) return `phone:${phone}`;
  if (name) return `name:${name}`;
  // A company lookup (Clearbit's Company Find) is about the organisation alone.
  return org ? `org:${org}` : '';
}

/** Whether `provider` knows the person behind `key` (a miss otherwise), for a hit rate in [0, 1]. */
export function knows(seed: string, provider: string, key: string, hitRate: number): boolean {
  return unit(seed, 'hit', provider, key) < hitRate;
}

/** The person behind a lookup, completed with made-up details that depend only on the seed and the identity. */
export function personFor(seed: string, input: SimInput): SimPerson {
  const key = identityKey(input);
  const email = clean(input.email);
  const [local = '', emailDomain = ''] = email.split('@');
  const nameParts = (input.fullName ?? '').trim().split(/\s+/).filter(Boolean);
  const firstName = capitalise((input.firstName ?? '').trim() || nameParts[0] || (local.includes('.') ? local.split('.')[0]! : '') || pick(FIRST, seed, 'first', key));
  const lastName = capitalise((input.lastName ?? '').trim() || nameParts.slice(1).join(' ') || (local.includes('.') ? local.split('.').slice(1).join('') : '') || pick(LAST, seed, 'last', key));
  const company = (input.company ?? '').trim() || `${lastName} Labs`;
  const domain = clean(input.domain) || emailDomain || `${slug(clean(company))}.com`;
  const givenProfile = clean(input.linkedinUrl).replace(/^https?:\/\/(www\.)?linkedin\.com\//, '').replace(/\/+$/, '');
  const handle = `${slug(firstName)}-${slug(lastName)}-${hex(6, seed, 'li', key)}`;
  return {
    id: hex(24, seed, 'id', key),
    firstName,
    lastName,
    fullName: `${firstName} ${lastName}`,
    email: email || `${slug(firstName)}.${slug(lastName)}@${domain}`,
    // 555-01xx numbers are reserved for fiction.
    phone: clean(input.phone) || `+1415555${String(100 + Math.floor(unit(seed, 'phone', key) * 100)).padStart(4, '0')}`,
    linkedinUrl: givenProfile ? `https://www.linkedin.com/${givenProfile}` : `https://www.linkedin.com/in/${handle}`,
    linkedinHandle: givenProfile || `in/${handle}`,
    title: pick(TITLES, seed, 'title', key),
    company,
    domain,
    score: 70 + Math.floor(unit(seed, 'score', key) * 30),
  };
}
