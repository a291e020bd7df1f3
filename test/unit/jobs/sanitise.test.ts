// The sanitiser is the only thing between a client's secrets and our database: keys, depth, arrays, paths.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitise } from '../../../src/jobs/sanitise.js';

const SECRET_WORDS = ['password', 'secret', 'token', 'api_key', 'apikey'];

describe('sanitise', () => {
  it.each([
    'password',
    'PASSWORD',
    'userPassword',
    'db_password_hash',
    'Secret',
    'clientSecret',
    'token',
    'accessToken',
    'REFRESH_TOKEN',
    'api_key',
    'X_API_KEY',
    'apikey',
    'ApiKey',
    'hunterApiKey',
  ])('removes the key %s', (key) => {
    const out = sanitise({ [key]: 'value', keep: 1 });
    expect(out.value).toEqual({ keep: 1 });
    expect(out.removed).toEqual([key]);
  });

  it.each(['name', 'email', 'pass', 'api', 'key', 'sec', 'tok'])('keeps the harmless key %s', (key) => {
    const out = sanitise({ [key]: 'v' });
    expect(out.value).toEqual({ [key]: 'v' });
    expect(out.removed).toEqual([]);
  });

  it('removes at any depth and inside arrays, reporting dot paths with numeric indexes', () => {
    const input = {
      lead: { email: 'a@b.c', credentials: { password: 'hunter2', user: 'bob' } },
      leads: [{ name: 'x', apiKey: 'k1' }, { name: 'y' }, [{ token: 't' }]],
      secret: { nested: 'whole subtree goes' },
    };
    const out = sanitise(input);
    expect(out.value).toEqual({
      lead: { email: 'a@b.c', credentials: { user: 'bob' } },
      leads: [{ name: 'x' }, { name: 'y' }, [{}]],
    });
    expect(out.removed.sort()).toEqual(['lead.credentials.password', 'leads.0.apiKey', 'leads.2.0.token', 'secret'].sort());
  });

  it('reports paths from a top-level array with bare indexes', () => {
    expect(sanitise([{ token: 1 }, { ok: 2 }]).removed).toEqual(['0.token']);
  });

  it('does not modify its input', () => {
    const input = { a: { password: 'p' } };
    sanitise(input);
    expect(input).toEqual({ a: { password: 'p' } });
  });

  it('leaves scalars and null alone', () => {
    for (const v of [null, 1, 'password', true]) expect(sanitise(v)).toEqual({ value: v, removed: [] });
  });

  it('never lets a removed value reach the output or the reported paths (property)', () => {
    const marker = 'SENSITIVE-VALUE-7f3a';
    const secretKey = fc.tuple(fc.constantFrom(...SECRET_WORDS), fc.boolean(), fc.string({ maxLength: 4 })).map(
      ([w, upper, suffix]) => `${upper ? w.toUpperCase() : w}${suffix.replace(/[^a-z]/gi, '')}`,
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'name', 'items'), tie('node'), { maxKeys: 3 }),
        fc.tuple(secretKey, tie('node')).map(([k, v]) => ({ [k]: marker, keep: v })),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (input) => {
        const out = sanitise(input);
        const text = JSON.stringify(out.value);
        expect(text).not.toContain(marker);
        expect(out.removed.join('|')).not.toContain(marker);
        const stack: unknown[] = [out.value];
        while (stack.length > 0) {
          const v = stack.pop();
          if (Array.isArray(v)) stack.push(...v);
          else if (v !== null && typeof v === 'object') {
            for (const [k, child] of Object.entries(v)) {
              expect(SECRET_WORDS.some((w) => k.toLowerCase().includes(w))).toBe(false);
              stack.push(child);
            }
          }
        }
        for (const p of out.removed) expect(p).toMatch(/^([^.]+)(\.[^.]+)*$/);
      }),
      { numRuns: 300 },
    );
  });
});
