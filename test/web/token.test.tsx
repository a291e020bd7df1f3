// @vitest-environment node
// Sign-in by URL fragment: the token is taken into the tab's storage and out of the address bar.
import { describe, expect, it } from 'vitest';
import { TOKEN_KEY, consumeFragmentToken, looksLikeJwt, parseTokenFragment, readClaims } from '../../web/src/auth/token';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnRfaWQiOiIwMDAwZGUwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDEiLCJzdWIiOiJkZW1vIiwiZXhwIjoxOTAwMDAwMDAwfQ.c2ln';

function place(hash: string) {
  const store = new Map<string, string>();
  const replaced: string[] = [];
  return {
    replaced,
    store,
    location: { hash, pathname: '/', search: '' },
    history: { state: null, replaceState: (_s: unknown, _t: string, url?: string | URL | null) => void replaced.push(String(url)) },
    storage: { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => void store.delete(k) },
  };
}

describe('token fragment', () => {
  it('parses #token= alone and among other parameters', () => {
    expect(parseTokenFragment(`#token=${JWT}`)).toEqual({ token: JWT, rest: '' });
    expect(parseTokenFragment(`#a=1&token=${JWT}`)).toEqual({ token: JWT, rest: '#a=1' });
    expect(parseTokenFragment('#/jobs?status=failed')).toEqual({ token: null, rest: '#/jobs?status=failed' });
    expect(parseTokenFragment('#token=')).toEqual({ token: null, rest: '' });
  });

  it('stores the token for the tab and removes it from the address bar', () => {
    const p = place(`#token=${JWT}`);
    expect(consumeFragmentToken(p)).toBe(JWT);
    expect(p.store.get(TOKEN_KEY)).toBe(JWT);
    expect(p.replaced).toEqual(['/']);
  });

  it('leaves other fragments alone and returns the token already kept', () => {
    const p = place('#/metrics');
    p.store.set(TOKEN_KEY, 'kept');
    expect(consumeFragmentToken(p)).toBe('kept');
    expect(p.replaced).toEqual([]);
  });

  it('clears an empty #token= from the address bar without signing in', () => {
    const p = place('#token=');
    expect(consumeFragmentToken(p)).toBeNull();
    expect(p.replaced).toEqual(['/']);
  });

  it('recognises the shape of a JWT and reads its claims', () => {
    expect(looksLikeJwt(JWT)).toBe(true);
    expect(looksLikeJwt('not a token')).toBe(false);
    expect(readClaims(JWT)).toEqual({ tenantId: '0000de00-0000-4000-8000-000000000001', sub: 'demo', exp: 1900000000 });
    expect(readClaims('a.b.c')).toBeNull();
  });
});
