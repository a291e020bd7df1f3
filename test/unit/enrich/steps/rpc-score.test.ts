// rpc_score: the hard cases of person matching, each spelled out, plus the names helpers underneath.
import { describe, expect, it } from 'vitest';
import { jaroWinkler } from '../../../../src/enrich/names/jaro-winkler.js';
import { areNicknames } from '../../../../src/enrich/names/nicknames.js';
import { parseFullName, parseNameParts } from '../../../../src/enrich/names/normalize.js';
import { soundex } from '../../../../src/enrich/names/soundex.js';
import fc from 'fast-check';
import { columnMap } from '../../../../src/enrich/entry.js';
import {
  type RpcReason, type RpcResult, DEFAULT_RPC_THRESHOLD, DEFAULT_WPC_THRESHOLD, compareRpcSides, normalizeDob, prepareRpcSide, scoreRpc,
} from '../../../../src/enrich/steps/rpc-score.js';

type Scored = Extract<RpcResult, { score: number }>;

function scored(entry: Record<string, string>): Scored {
  const r = scoreRpc(entry);
  if (r.class === null) throw new Error('expected a score, got skipped');
  return r;
}

const reason = (r: Scored, field: string): RpcReason | undefined => r.reasons.find((x) => x.field === field);

// Names plus one identifying field that agrees, so the name comparison decides the class.
const withDob = (a: Record<string, string>, b: Record<string, string>): Record<string, string> => ({
  ...a, dob: '1980-04-12', ...b, contact_dob: '1980-04-12',
});

describe('name helpers', () => {
  it('Jaro-Winkler matches the textbook values', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.9611, 3);
    expect(jaroWinkler('dwayne', 'duane')).toBeCloseTo(0.84, 2);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.8133, 3);
    expect(jaroWinkler('abc', 'abc')).toBe(1);
    expect(jaroWinkler('', 'abc')).toBe(0);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
  });

  it('Jaro-Winkler grows its buffers for long strings and stays symmetric', () => {
    const long = 'a'.repeat(200) + 'b';
    expect(jaroWinkler(long, long + 'c')).toBeGreaterThan(0.99);
    expect(jaroWinkler('jonh', 'john')).toBeCloseTo(jaroWinkler('john', 'jonh'), 10);
  });

  it('Soundex codes the classic examples', () => {
    expect(soundex('robert')).toBe('R163');
    expect(soundex('rupert')).toBe('R163');
    expect(soundex('ashcraft')).toBe('A261');
    expect(soundex('tymczak')).toBe('T522');
    expect(soundex('pfister')).toBe('P236');
    expect(soundex('')).toBe('');
  });

  it('nickname table links Bob, Robert and Bobby but not Robert and Richard', () => {
    expect(areNicknames('bob', 'robert')).toBe(true);
    expect(areNicknames('bobby', 'rob')).toBe(true);
    expect(areNicknames('robert', 'richard')).toBe(false);
  });

  it('parses "Last, First", honorifics, suffixes, accents and compound surnames', () => {
    expect(parseFullName('Smith, John')).toMatchObject({ given: 'john', surname: 'smith', suffix: '' });
    expect(parseFullName('Dr. José García-López Jr.')).toMatchObject({
      given: 'jose', surname: 'garcialopez', surnameParts: ['garcia', 'lopez'], suffix: 'jr',
    });
    expect(parseFullName('John Smith, Jr.')).toMatchObject({ given: 'john', surname: 'smith', suffix: 'jr' });
    expect(parseFullName('Mrs Anna van der Berg')).toMatchObject({ given: 'anna', surname: 'vanderberg', surnameParts: ['berg'] });
    expect(parseFullName('J. R. Smith')).toMatchObject({ given: 'j', middles: ['r'], surname: 'smith' });
    expect(parseNameParts('Robert', 'Smith III')).toMatchObject({ given: 'robert', surname: 'smith', suffix: 'iii' });
    expect(parseFullName('Maria Garcia Lopez')).toMatchObject({ given: 'maria', middles: ['garcia'], surname: 'lopez' });
    expect(parseFullName('Mary-Jane  O\'Brien')).toMatchObject({ given: 'maryjane', surname: 'obrien' });
  });

  it('reads dates of birth in the usual layouts', () => {
    expect(normalizeDob('19800412')).toBe('19800412');
    expect(normalizeDob('1980-04-12')).toBe('19800412');
    // MM/DD/YYYY is the contract's US form.
    expect(normalizeDob('04/12/1980')).toBe('19800412');
    expect(normalizeDob('04121980')).toBe('19800412');
    expect(normalizeDob('not a date')).toBe('');
  });
});

describe('scoreRpc hard cases', () => {
  it('Bob matches Robert through the nickname table', () => {
    const r = scored(withDob({ first_name: 'Robert', last_name: 'Smith' }, { contact_first_name: 'Bob', contact_last_name: 'Smith' }));
    expect(reason(r, 'first_name')?.level).toBe('nickname');
    expect(r.class).toBe('rpc');
  });

  it('an initial is weak agreement: "J. Smith" vs "John Smith" scores below the full name', () => {
    const initial = scored(withDob({ full_name: 'J. Smith' }, { contact_name: 'John Smith' }));
    const full = scored(withDob({ full_name: 'John Smith' }, { contact_name: 'John Smith' }));
    expect(reason(initial, 'first_name')).toMatchObject({ level: 'initial' });
    expect(initial.score).toBeLessThan(full.score);
    expect(initial.class).not.toBe('wpc');
    const otherInitial = scored(withDob({ full_name: 'K. Smith' }, { contact_name: 'John Smith' }));
    expect(reason(otherInitial, 'first_name')?.level).toBe('disagree');
    // Two equal initials are no stronger than an initial against a full name.
    const bothInitials = scored(withDob({ full_name: 'J. Smith' }, { contact_name: 'J Smith' }));
    expect(reason(bothInitials, 'first_name')).toMatchObject({ level: 'initial', weight: reason(initial, 'first_name')?.weight });
  });

  it('Jr against Sr leans wrong party: father and son share name and address', () => {
    const r = scored({
      full_name: 'John Smith Jr', address: '12 High Street', postcode: '2000',
      contact_name: 'John Smith Sr', contact_address: '12 High Street', contact_postcode: '2000',
    });
    expect(reason(r, 'suffix')).toMatchObject({ level: 'disagree' });
    expect(reason(r, 'suffix')?.weight).toBeLessThan(-5);
    expect(r.class).not.toBe('rpc');
    const same = scored({
      full_name: 'John Smith Jr', address: '12 High Street', postcode: '2000',
      contact_name: 'John Smith Jr', contact_address: '12 High Street', contact_postcode: '2000',
    });
    expect(same.class).toBe('rpc');
    expect(r.score).toBeLessThan(same.score);
    const namesOnly = scored({ full_name: 'John Smith Jr', contact_name: 'John Smith Sr' });
    expect(namesOnly.class).toBe('wpc');
  });

  it('hyphenated "Garcia-Lopez" shares a compound part with "Garcia"', () => {
    const r = scored(withDob({ first_name: 'Maria', last_name: 'Garcia-Lopez' }, { contact_first_name: 'Maria', contact_last_name: 'Garcia' }));
    expect(reason(r, 'last_name')).toMatchObject({ level: 'compound' });
    expect(reason(r, 'last_name')?.weight).toBeGreaterThan(0);
    expect(r.class).toBe('rpc');
  });

  it('swapped given name and surname still match, with a small penalty', () => {
    const r = scored(withDob({ first_name: 'John', last_name: 'Smith' }, { contact_first_name: 'Smith', contact_last_name: 'John' }));
    expect(reason(r, 'name_order')).toMatchObject({ level: 'swapped' });
    expect(reason(r, 'first_name')?.level).toBe('exact');
    expect(reason(r, 'last_name')?.level).toBe('exact');
    expect(r.class).toBe('rpc');
  });

  it('"Smith, John" reads as John Smith', () => {
    const r = scored(withDob({ full_name: 'Smith, John' }, { contact_name: 'John Smith' }));
    expect(reason(r, 'name_order')).toBeUndefined();
    expect(reason(r, 'first_name')?.level).toBe('exact');
    expect(r.class).toBe('rpc');
  });

  it('accents do not matter: "José" equals "Jose"', () => {
    const r = scored(withDob({ first_name: 'José', last_name: 'Núñez' }, { contact_first_name: 'Jose', contact_last_name: 'NUNEZ' }));
    expect(reason(r, 'first_name')?.level).toBe('exact');
    expect(reason(r, 'last_name')?.level).toBe('exact');
  });

  it('a typo "Jonh" is close agreement, not disagreement', () => {
    const r = scored(withDob({ first_name: 'John', last_name: 'Smith' }, { contact_first_name: 'Jonh', contact_last_name: 'Smith' }));
    expect(reason(r, 'first_name')?.level).toBe('close');
    expect(reason(r, 'first_name')?.weight).toBeGreaterThan(2);
    expect(r.class).toBe('rpc');
  });

  it('same name, different date of birth is not the right party', () => {
    const r = scored({
      first_name: 'John', last_name: 'Smith', dob: '1980-04-12',
      contact_first_name: 'John', contact_last_name: 'Smith', contact_dob: '1962-11-30',
    });
    expect(reason(r, 'dob')).toMatchObject({ level: 'disagree' });
    expect(r.class).not.toBe('rpc');
  });

  it('day and month transposed is partial agreement on date of birth', () => {
    const r = scored({ first_name: 'Ann', last_name: 'Lee', dob: '1980-04-12', contact_first_name: 'Ann', contact_last_name: 'Lee', contact_dob: '1980-12-04' });
    expect(reason(r, 'dob')?.level).toBe('transposed');
  });

  it('names alone, however exact, are review rather than rpc', () => {
    const r = scored({ first_name: 'John', last_name: 'Smith', contact_first_name: 'John', contact_last_name: 'Smith' });
    expect(r.class).toBe('review');
    const stranger = scored({ first_name: 'John', last_name: 'Smith', contact_first_name: 'Mary', contact_last_name: 'Jones' });
    expect(stranger.class).toBe('wpc');
  });

  it('phone and email agreement confirm the person; column names are case-insensitive', () => {
    const r = scored({
      First_Name: 'Ann', LAST_NAME: 'Lee', phone: '+44 20 7946 0018', email: 'Ann.Lee@example.com',
      contact_first_name: 'Ann', contact_last_name: 'Lee', contact_phone: '020 7946 0018', contact_email: 'ann.lee@example.com',
    });
    expect(reason(r, 'phone')?.level).toBe('exact');
    expect(reason(r, 'email')?.level).toBe('exact');
    expect(r.class).toBe('rpc');
  });

  it('thresholds are options: a stricter rpcThreshold turns a borderline rpc into review', () => {
    const entry = withDob({ full_name: 'J. Smith' }, { contact_name: 'John Smith' });
    const loose = scoreRpc(entry, { rpcThreshold: 50 });
    const strict = scoreRpc(entry, { rpcThreshold: 100.01 });
    expect(loose.class).toBe('rpc');
    expect(strict.class).toBe('review');
  });

  it('"Robert" and "Bobby Smith" with one date of birth: a nickname, not a disagreement', () => {
    const r = scored(withDob({ full_name: 'Robert J. Smith' }, { contact_first_name: 'Bobby', contact_last_name: 'SMITH' }));
    expect(reason(r, 'first_name')).toMatchObject({ level: 'nickname' });
    expect(reason(r, 'first_name')?.weight).toBeGreaterThan(3);
    expect(r.score).toBeGreaterThanOrEqual(DEFAULT_RPC_THRESHOLD);
  });

  it('a middle initial that differs counts a little against, one that agrees a little for', () => {
    const same = scored(withDob({ full_name: 'John Q. Public' }, { contact_name: 'John Q Public' }));
    const other = scored(withDob({ full_name: 'John Q. Public' }, { contact_name: 'John R. Public' }));
    expect(reason(same, 'middle_name')).toMatchObject({ level: 'exact' });
    expect(reason(other, 'middle_name')).toMatchObject({ level: 'disagree' });
    expect(other.score).toBeLessThan(same.score);
  });

  it('someone who goes by the middle name: "J. Michael Smith" is "Michael Smith"', () => {
    const r = scored(withDob({ full_name: 'James Michael Smith' }, { contact_name: 'Michael Smith' }));
    expect(reason(r, 'first_name')).toMatchObject({ level: 'middle_name' });
    expect(reason(r, 'first_name')?.weight).toBeGreaterThan(0);
    expect(r.class).toBe('rpc');
  });

  it('Hispanic double surname as one full name: "Maria Garcia Lopez" keeps Garcia in "Maria Garcia"', () => {
    const r = scored(withDob({ full_name: 'María García López' }, { contact_name: 'Maria Garcia' }));
    expect(reason(r, 'last_name')).toMatchObject({ level: 'compound' });
    expect(r.class).toBe('rpc');
    const spaced = scored(withDob({ first_name: 'Maria', last_name: 'Garcia Lopez' }, { contact_first_name: 'Maria', contact_last_name: 'Lopez' }));
    expect(reason(spaced, 'last_name')).toMatchObject({ level: 'compound' });
  });

  it('surname particles kept or dropped: "Anna van der Berg" and "Anna Berg"', () => {
    const r = scored(withDob({ full_name: 'Anna van der Berg' }, { contact_name: 'Anna Berg' }));
    expect(reason(r, 'last_name')).toMatchObject({ level: 'particles' });
    expect(r.class).toBe('rpc');
    const joined = scored(withDob({ full_name: 'Anna Van Der Berg' }, { contact_first_name: 'Anna', contact_last_name: 'Vanderberg' }));
    expect(reason(joined, 'last_name')).toMatchObject({ level: 'exact' });
  });

  it('East Asian order: "Wang Wei" and "Wei Wang" as full names are one person written two ways', () => {
    const r = scored(withDob({ full_name: 'Wang Wei' }, { contact_name: 'Wei Wang' }));
    expect(reason(r, 'name_order')).toMatchObject({ level: 'swapped' });
    expect(reason(r, 'first_name')?.level).toBe('exact');
    expect(reason(r, 'last_name')?.level).toBe('exact');
    expect(r.class).toBe('rpc');
    // Two different people who share only the family name are not swapped into a match.
    const other = scored(withDob({ full_name: 'Wang Wei' }, { contact_name: 'Wang Fang' }));
    expect(reason(other, 'name_order')).toBeUndefined();
    expect(other.score).toBeLessThan(r.score);
  });

  it('Vietnamese order with a middle name: "Nguyen Van Minh" and "Minh Nguyen", either way round', () => {
    for (const [x, y] of [['Nguyen Van Minh', 'Minh Nguyen'], ['Minh Nguyen', 'Nguyen Van Minh']]) {
      const r = scored(withDob({ full_name: x as string }, { contact_name: y as string }));
      expect(reason(r, 'name_order')).toMatchObject({ level: 'swapped' });
      expect(reason(r, 'first_name')?.weight).toBeGreaterThan(4);
      expect(reason(r, 'last_name')?.weight).toBeGreaterThan(4);
      expect(r.class).toBe('rpc');
    }
  });

  it('honorifics are ignored: "Dr. John Smith" is "Mr John Smith"', () => {
    const r = scored(withDob({ full_name: 'Dr. John Smith' }, { contact_name: 'Mr John Smith' }));
    expect(reason(r, 'first_name')?.level).toBe('exact');
    expect(reason(r, 'last_name')?.level).toBe('exact');
    expect(reason(r, 'suffix')).toBeUndefined();
  });

  it('scrambled letters ("Hayr" for "Harry") are partial agreement, weaker than a one-letter slip', () => {
    const scrambled = scored({ first_name: 'Harry', last_name: 'Thomas', contact_first_name: 'Hayr', contact_last_name: 'Thomas' });
    const slip = scored({ first_name: 'Harry', last_name: 'Thomas', contact_first_name: 'Hary', contact_last_name: 'Thomas' });
    expect(reason(scrambled, 'first_name')).toMatchObject({ level: 'scrambled' });
    expect(reason(scrambled, 'first_name')?.weight).toBeGreaterThan(0);
    expect(reason(slip, 'first_name')).toMatchObject({ level: 'close' });
    expect(scrambled.score).toBeLessThan(slip.score);
  });

  it('a family member (same surname and address, another first name) is not the right party', () => {
    const home = { address: '12 High Street', city: 'Springfield', postcode: '62704', contact_address: '12 High Street', contact_city: 'Springfield', contact_postcode: '62704' };
    const r = scored({ ...home, first_name: 'Mary', last_name: 'Johnson', contact_first_name: 'Robert', contact_last_name: 'Johnson' });
    expect(reason(r, 'first_name')).toMatchObject({ level: 'disagree' });
    expect(reason(r, 'address')).toMatchObject({ level: 'exact' });
    expect(r.class).not.toBe('rpc');
    // The same household with the same first name is the person.
    const self = scored({ ...home, first_name: 'Mary', last_name: 'Johnson', contact_first_name: 'Mary', contact_last_name: 'Johnson' });
    expect(self.class).toBe('rpc');
    expect(r.score).toBeLessThan(self.score);
  });

  it('a namesake in the same postcode with a date of birth a generation apart is not the right party', () => {
    const r = scored({
      first_name: 'John', last_name: 'Smith', dob: '1985-03-14', postcode: '10001', city: 'New York',
      contact_first_name: 'John', contact_last_name: 'Smith', contact_dob: '03/02/1958', contact_postcode: '10001', contact_city: 'New York',
    });
    expect(reason(r, 'dob')).toMatchObject({ level: 'disagree' });
    expect(reason(r, 'dob')?.weight).toBeLessThan(0);
    expect(r.class).not.toBe('rpc');
  });

  it('reasons name the fields that decided: the weights add up to the total, strongest first to look at', () => {
    const r = scored({
      first_name: 'Ann', last_name: 'Lee', dob: '1990-01-02', email: 'ann@example.com',
      contact_first_name: 'Ann', contact_last_name: 'Lee', contact_dob: '1990-01-02', contact_email: 'ann@example.com',
    });
    expect(r.reasons.map((x) => x.field).sort()).toEqual(['dob', 'email', 'first_name', 'last_name']);
    expect(r.weight).toBeCloseTo(r.reasons.reduce((s, x) => s + x.weight, 0), 1);
    expect(r.class).toBe('rpc');
    const stranger = scored({ first_name: 'Ann', last_name: 'Lee', dob: '1990-01-02', contact_first_name: 'Zoe', contact_last_name: 'Parker', contact_dob: '1971-09-30' });
    expect(stranger.class).toBe('wpc');
    expect(stranger.score).toBeLessThan(DEFAULT_WPC_THRESHOLD);
    for (const f of ['first_name', 'last_name', 'dob']) expect(reason(stranger, f)?.weight).toBeLessThan(0);
  });

  it('scores the same however often it runs (the name caches never change an answer)', () => {
    const entry = withDob({ first_name: 'Kathryn', last_name: 'Nguyen' }, { contact_first_name: 'Katie', contact_last_name: 'Nguyen' });
    const first = scoreRpc(entry);
    for (let i = 0; i < 3; i++) expect(scoreRpc(entry)).toEqual(first);
    expect(compareRpcSides(prepareRpcSide(entry, ''), prepareRpcSide(entry, 'contact_'))).toEqual(first);
  });

  it('without contact fields the step is skipped', () => {
    expect(scoreRpc({ first_name: 'John', last_name: 'Smith', dob: '1980-04-12' })).toEqual({ class: null, skipped: 'no_contact' });
    expect(scoreRpc({ first_name: 'John', contact_name: '  ' })).toEqual({ class: null, skipped: 'no_contact' });
  });

  it('score stays within 0..100 and reasons carry field, level and weight', () => {
    const r = scored(withDob({ first_name: 'John', last_name: 'Smith' }, { contact_first_name: 'John', contact_last_name: 'Smith' }));
    expect(r.score).toBeGreaterThanOrEqual(0);
    expect(r.score).toBeLessThanOrEqual(100);
    for (const x of r.reasons) expect(x).toEqual({ field: expect.any(String), level: expect.any(String), weight: expect.any(Number) });
  });
});

describe('column reading', () => {
  // scoreRpc reads columns itself (for speed) and must read them exactly as entry.ts's columnMap does.
  const names = ['first_name', 'First_Name', ' LAST_NAME ', 'last_name', 'full_name', 'dob', 'Address', 'city', 'state', 'postcode',
    'phone', 'email', 'contact_name', 'Contact_Name', 'contact_first_name', 'CONTACT_LAST_NAME', 'contact_dob', 'contact_address',
    'contact_city', 'contact_postcode', 'contact_phone', 'contact_email', 'notes'];
  const cell = fc.oneof(
    fc.constantFrom('', '  ', ' John ', 'Smith', 'Garcia-Lopez', '1980-04-12', '04/12/1980', '12 High St', 'x@y.com', '+1 555 0100', 'José'),
    fc.integer({ min: 0, max: 99999 }), fc.constant(Number.NaN), fc.constant(null), fc.boolean(),
  );

  it('agrees with columnMap on any mix of column spellings and cell types', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...names), cell), { maxLength: 14 }), (cells) => {
        const entry: Record<string, unknown> = {};
        for (const [k, v] of cells) entry[k] = v;
        const canonical = Object.fromEntries(columnMap(entry));
        expect(scoreRpc(entry)).toEqual(scoreRpc(canonical));
      }),
      { numRuns: 300 },
    );
  });

  it('ignores inherited properties, as columnMap does', () => {
    const entry = Object.create({ contact_first_name: 'John' }) as Record<string, unknown>;
    entry.first_name = 'John';
    expect(scoreRpc(entry)).toEqual({ class: null, skipped: 'no_contact' });
  });
});
