// People a provider can be asked about (given name, surname, company domain), made
// deterministically from the FEBRL4 names (../shared/data/febrl): entry i takes the name of
// record i mod 5000 and a company domain shared by 20 consecutive entries, so every entry's
// normalised lookup input (name + registrable domain) is distinct.
import { readFileSync } from 'node:fs';

const DATA = new URL('../../../shared/data/febrl/dataset4a.csv', import.meta.url);
const PER_DOMAIN = 20;

let names: { given: string; surname: string }[] | undefined;
function febrlNames(): { given: string; surname: string }[] {
  if (!names) {
    const lines = readFileSync(DATA, 'utf8').split('\n').filter((l) => l.trim().length > 0);
    const header = lines[0]!.split(',').map((h) => h.trim());
    const gi = header.indexOf('given_name');
    const si = header.indexOf('surname');
    names = lines.slice(1).map((l) => {
      const c = l.split(',').map((x) => x.trim());
      return { given: c[gi] ?? '', surname: c[si] ?? '' };
    });
  }
  return names;
}

/** The i-th person (same i, same person): first_name, last_name, domain, external_id. */
export function lookupPerson(i: number): Record<string, string> {
  const all = febrlNames();
  const n = all[i % all.length]!;
  // A name FEBRL left empty gets one of ours, so the name part of the key is never empty.
  const given = n.given || `anna${i % 97}`;
  const surname = n.surname || `lee${i % 89}`;
  return { external_id: `person-${i}`, first_name: given, last_name: surname, domain: `firm${Math.floor(i / PER_DOMAIN)}.com.au` };
}
