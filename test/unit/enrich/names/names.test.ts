// The name helpers' fast paths must answer exactly as their plain definitions do.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jaroWinkler } from '../../../../src/enrich/names/jaro-winkler.js';
import { cachedFullName, cachedNameParts, normalizeText, parseFullName, parseNameParts } from '../../../../src/enrich/names/normalize.js';
import { bagDistance, commonLetters, oneEdit } from '../../../../src/enrich/names/similarity.js';

// Textbook Jaro-Winkler with fresh arrays: the reference for the bit-mask and buffer versions.
function referenceJw(a: string, b: string): number {
  if (a === b) return a.length === 0 ? 0 : 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  const fa = new Array<boolean>(la).fill(false);
  const fb = new Array<boolean>(lb).fill(false);
  const w = Math.max(0, (Math.max(la, lb) >> 1) - 1);
  let m = 0;
  for (let i = 0; i < la; i++) {
    for (let j = Math.max(0, i - w); j < Math.min(lb, i + w + 1); j++) {
      if (!fb[j] && b[j] === a[i]) {
        fa[i] = fb[j] = true;
        m++;
        break;
      }
    }
  }
  if (m === 0) return 0;
  let t = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (!fa[i]) continue;
    while (!fb[k]) k++;
    if (a[i] !== b[k]) t++;
    k++;
  }
  const jaro = (m / la + m / lb + (m - (t >> 1)) / m) / 3;
  let p = 0;
  while (p < Math.min(4, la, lb) && a[p] === b[p]) p++;
  return jaro + p * 0.1 * (1 - jaro);
}

// The general normalisation, without normalizeText's fast path.
const slowNormalize = (s: string): string =>
  s.toLowerCase().normalize('NFD').replace(/\p{M}+/gu, '').replace(/[’'`.]/g, '').replace(/[^a-z0-9,\- ]+/g, ' ')
    .replace(/\s*-\s*/g, '-').replace(/\s+/g, ' ').replace(/^-+|-+$/g, '').trim();

const smallAlphabet = (chars: string, maxLength: number) =>
  fc.array(fc.constantFrom(...chars.split('')), { maxLength }).map((cs) => cs.join(''));

describe('Jaro-Winkler fast paths', () => {
  it('matches the textbook definition for short (bit-mask) and long (buffer) strings alike', () => {
    fc.assert(
      fc.property(smallAlphabet('abcde', 40), smallAlphabet('abcde', 40), (a, b) => {
        expect(jaroWinkler(a, b)).toBeCloseTo(referenceJw(a, b), 12);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('edit helpers', () => {
  it('oneEdit: one substitution, adjacent swap, or (from four letters) one insertion or drop', () => {
    expect(oneEdit('john', 'jonh')).toBe(true);
    expect(oneEdit('smith', 'smyth')).toBe(true);
    expect(oneEdit('harry', 'hary')).toBe(true);
    expect(oneEdit('hary', 'harry')).toBe(true);
    expect(oneEdit('jon', 'john')).toBe(false);
    expect(oneEdit('smith', 'smiht')).toBe(true);
    expect(oneEdit('smith', 'msiht')).toBe(false);
    expect(oneEdit('smith', 'smithson')).toBe(false);
    expect(oneEdit('19800412', '19800421', 99)).toBe(true);
  });

  it('bag distance ignores order: anagrams are 0, one letter lost or changed is 1', () => {
    expect(bagDistance('harry', 'yrrah')).toBe(0);
    expect(bagDistance('thomas', 'mhota')).toBe(1);
    expect(bagDistance('brooks', 'brown')).toBe(3);
    expect(commonLetters('wallace', 'cllawe')).toBe(6);
    expect(bagDistance('', 'abc')).toBe(3);
  });
});

describe('normalizeText', () => {
  it('fast path and general path agree', () => {
    fc.assert(
      fc.property(smallAlphabet('aZé -,.\'9x', 12), (s) => {
        expect(normalizeText(s)).toBe(slowNormalize(s));
      }),
      { numRuns: 2000 },
    );
    expect(normalizeText('  O\'Brien - Smith ')).toBe('obrien-smith');
    expect(normalizeText('Núñez')).toBe('nunez');
  });
});

describe('name caches', () => {
  it('return what the parsers return, for repeated and new names', () => {
    for (const [f, l] of [['John', 'Smith'], ['Dr. José', 'García-López Jr.'], ['', 'Lee'], ['Mary Ann', '']] as const) {
      expect(cachedNameParts(f, l)).toEqual(parseNameParts(f, l));
      expect(cachedNameParts(f, l)).toBe(cachedNameParts(f, l));
    }
    for (const full of ['Smith, John', 'Wang Wei', 'Anna van der Berg']) expect(cachedFullName(full)).toEqual(parseFullName(full));
  });
});
