// FEBRL-like list entries with every recognised column filled, made deterministically from the
// FEBRL4 records (../shared/data/febrl): the entry is one record, the contact its duplicate
// (the right party) or another person (the wrong one), so every step has real work to do.
import { readFileSync } from 'node:fs';

const DATA = new URL('../../../shared/data/febrl/', import.meta.url);

type Rec = Record<string, string>;

function readFebrl(file: string): Rec[] {
  const lines = readFileSync(new URL(file, DATA), 'utf8').split('\n').filter((l) => l.trim().length > 0);
  const header = lines[0]!.split(',').map((h) => h.trim());
  return lines.slice(1).map((l) => {
    const cells = l.split(',').map((c) => c.trim());
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

const recNumber = (id: string) => /^rec-(\d+)-/.exec(id)?.[1] ?? '';

let cache: { orgs: Rec[]; dupOf: Map<string, Rec>; dups: Rec[] } | undefined;
function records() {
  if (!cache) {
    const orgs = readFebrl('dataset4a.csv');
    const dups = readFebrl('dataset4b.csv');
    cache = { orgs, dups, dupOf: new Map(dups.map((d) => [recNumber(d.rec_id!), d])) };
  }
  return cache;
}

const DOMAINS = ['gmail.com', 'acme.com.au', 'bigpond.net.au', 'example.org', 'mailinator.com', 'company.co.uk'];
const isoDob = (d: string) => (/^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d);
const address = (r: Rec) => [r.street_number, r.address_1, r.address_2].filter((x) => x).join(' ');
const phone = (i: number) => `(02) 9${String(100 + (i % 900)).padStart(3, '0')} ${String(1000 + ((i * 7919) % 9000)).padStart(4, '0')}`;

/** The i-th generated entry (same i, same entry); half pair a person with their duplicate. */
export function febrlEntry(i: number): Record<string, string> {
  const { orgs, dups, dupOf } = records();
  const a = orgs[i % orgs.length]!;
  const same = i % 2 === 0;
  const b = same ? (dupOf.get(recNumber(a.rec_id!)) ?? a) : dups[(i * 31 + 7) % dups.length]!;
  const domain = DOMAINS[i % DOMAINS.length]!;
  const email = `${a.given_name || 'x'}.${a.surname || 'y'}${i}@${domain}`;
  return {
    external_id: `febrl-${i}`,
    first_name: a.given_name!,
    last_name: a.surname!,
    full_name: `${a.given_name} ${a.surname}`.trim(),
    dob: isoDob(a.date_of_birth!),
    email,
    phone: phone(i),
    address: address(a),
    city: a.suburb!,
    state: a.state!,
    postcode: a.postcode!,
    country: 'AU',
    company: i % 3 === 0 ? `https://www.${domain}/about` : 'Acme Pty Ltd',
    domain,
    contact_name: `${b.given_name} ${b.surname}`.trim(),
    contact_first_name: b.given_name!,
    contact_last_name: b.surname!,
    contact_dob: isoDob(b.date_of_birth!),
    contact_address: address(b),
    contact_city: b.suburb!,
    contact_state: b.state!,
    contact_postcode: b.postcode!,
    contact_phone: same ? phone(i) : phone(i + 1),
    contact_email: same ? email : `${b.given_name || 'x'}@${domain}`,
  };
}
