// Column mapping (case-insensitive, trimmed) and the header names an upload may not use.
import { describe, expect, it } from 'vitest';
import { RECOGNISED_COLUMNS, describeColumns, findHeaderProblem, mapColumn } from '../../../src/lists/columns.js';

describe('mapColumn', () => {
  it.each(RECOGNISED_COLUMNS.map((c) => [c]))('maps %s as written, upper-cased and padded', (name) => {
    expect(mapColumn(name)).toBe(name);
    expect(mapColumn(name.toUpperCase())).toBe(name);
    expect(mapColumn(`  ${name}\t`)).toBe(name);
  });

  it('knows exactly the contract columns', () => {
    expect(RECOGNISED_COLUMNS).toHaveLength(24);
    expect(new Set(RECOGNISED_COLUMNS).size).toBe(24);
  });

  it.each(['e-mail', 'email address', 'firstname', 'first name', 'zip', 'contact', 'emails', '', ' '])('leaves %j unmapped', (name) => {
    expect(mapColumn(name)).toBeNull();
  });
});

describe('describeColumns', () => {
  it('keeps names as uploaded, in order, with their mapping', () => {
    expect(describeColumns([' Email ', 'Loyalty', 'CONTACT_DOB'])).toEqual([
      { name: ' Email ', mappedTo: 'email' },
      { name: 'Loyalty', mappedTo: null },
      { name: 'CONTACT_DOB', mappedTo: 'contact_dob' },
    ]);
  });
});

describe('findHeaderProblem', () => {
  it('accepts distinct names, recognised or not', () => {
    expect(findHeaderProblem(['email', 'phone', 'anything else', 'Ünïcode'])).toBeNull();
  });

  it.each([
    [['email', '', 'phone'], 2, /empty name/],
    [['email', '   '], 2, /empty name/],
    [['email', 'phone', 'email'], 3, /repeats the name "email" of column 1/],
    [['Email', 'email'], 2, /only in case or spaces/],
    [['x', ' x '], 2, /only in case or spaces/],
    [['__proto__'], 1, /may not be named/],
    [['email', 'constructor'], 2, /may not be named/],
  ] as const)('refuses %j at column %i', (names, column, message) => {
    const problem = findHeaderProblem(names);
    expect(problem?.column).toBe(column);
    expect(problem?.message).toMatch(message);
  });
});
