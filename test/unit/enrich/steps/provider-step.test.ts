// The provider step's options, accept rule and cache keys, and running provider steps over a batch.
import { describe, expect, it } from 'vitest';
import { type PlanStep, StepDeferred, createPlanBody, enrichEntries } from '../../../../src/enrich/plan.js';
import { accepts, providerLabel } from '../../../../src/enrich/steps/provider-step.js';
import { inputKey, lookupInputOf } from '../../../../src/providers/cache/key.js';

const provider: PlanStep = { type: 'provider', options: { providers: ['pdl'], want: 'email' } };

describe('provider step options', () => {
  it('names an unknown provider, a twice-named one, and a bad want by path', () => {
    const bad = createPlanBody.safeParse({ name: 'p', steps: [{ type: 'provider', options: { providers: ['hunter', 'nosuch'], want: 'email' } }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['steps.0.options.providers.1']);
    const twice = createPlanBody.safeParse({ name: 'p', steps: [{ type: 'provider', options: { providers: ['pdl', 'pdl'], want: 'email' } }] });
    expect(twice.error!.issues[0]!.path.join('.')).toBe('steps.0.options.providers');
    const want = createPlanBody.safeParse({ name: 'p', steps: [{ type: 'provider', options: { providers: ['pdl'], want: 'fax' } }] });
    expect(want.error!.issues[0]!.path.join('.')).toBe('steps.0.options.want');
    const regex = createPlanBody.safeParse({ name: 'p', steps: [{ type: 'provider', options: { providers: ['pdl'], want: 'email', accept: { pattern: '(' } } }] });
    expect(regex.error!.issues[0]!.path.join('.')).toBe('steps.0.options.accept.pattern');
    // nested repetition could backtrack for minutes in a shared worker: refused at save
    for (const pattern of ['(a+)+$', '^(\\w+\\s?)*$']) {
      const risky = createPlanBody.safeParse({ name: 'p', steps: [{ type: 'provider', options: { providers: ['pdl'], want: 'email', accept: { pattern } } }] });
      expect(risky.success, pattern).toBe(false);
      expect(risky.error!.issues[0]!.message).toMatch(/nested repetition/);
    }
    const fine = createPlanBody.safeParse({ name: 'p', steps: [{ type: 'provider', options: { providers: ['pdl'], want: 'email', accept: { pattern: '^[^@]+@acme\\.(com|io)$' } } }] });
    expect(fine.success).toBe(true);
  });
});

describe('accept rule', () => {
  it('takes any non-empty value by default, and applies pattern and minScore', () => {
    expect(accepts(undefined, 'a@b.io', {})).toBe(true);
    expect(accepts(undefined, '  ', {})).toBe(false);
    expect(accepts({ pattern: '@acme\\.com$' }, 'a@b.io', {})).toBe(false);
    expect(accepts({ minScore: 80 }, 'a@b.io', { score: 90 })).toBe(true);
    expect(accepts({ minScore: 80 }, 'a@b.io', { likelihood: 6 })).toBe(false);
    expect(accepts({ minScore: 80 }, 'a@b.io', {})).toBe(false);
    expect(providerLabel({ value: null, answeredBy: null, attempts: [], stopped: 'budget_exhausted' })).toBe('budget_exhausted');
  });
});

describe('lookup inputs and cache keys', () => {
  it('normalise email, domain, phone and name, so the same person is one key', () => {
    const a = lookupInputOf({ First_Name: 'Dr. José', last_name: 'García-López Jr.', EMAIL: ' Jose@Mail.ACME.co.uk ', phone: '(415) 555-0100' }, 'social');
    expect(a).toMatchObject({ email: 'jose@mail.acme.co.uk', domain: 'acme.co.uk', phone: '+14155550100' });
    const b = lookupInputOf({ full_name: 'Jose Garcia-Lopez Jr', email: 'jose@mail.acme.co.uk', phone: '+1 415 555 0100', domain: 'https://www.acme.co.uk/' }, 'social');
    expect(inputKey(a)).toBe(inputKey(b));
    expect(inputKey(lookupInputOf({ email: 'x@acme.io' }, 'email'))).not.toBe(inputKey(lookupInputOf({ email: 'x@acme.io' }, 'phone')));
  });
});

describe('enrichEntries', () => {
  it('runs local steps as enrichEntry does and provider steps concurrently, within the bound', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await enrichEntries([{ type: 'company_domain', options: {} }, provider], Array.from({ length: 40 }, (_, i) => ({ domain: `d${i}.com` })), {
      concurrency: 4,
      provider: async (_s, _e, i) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return { result: { value: `v${i}` }, label: 'answered' };
      },
    });
    expect(most).toBe(4);
    expect(out[7]!.results).toEqual({ company_domain: { domain: 'd7.com', freeMail: false }, provider: { value: 'v7' } });
    expect(Object.keys(out[7]!.results)).toEqual(['company_domain', 'provider']);
  });

  it('lets the others finish, then throws the latest deferral; a raising lookup is the entry\'s error', async () => {
    const asked: number[] = [];
    const run = enrichEntries([provider], [{}, {}, {}, {}], {
      provider: async (_s, _e, i) => {
        asked.push(i);
        if (i === 1) throw new StepDeferred(1000, 'wait');
        if (i === 2) throw new StepDeferred(2000, 'wait longer');
        return { result: {}, label: 'answered' };
      },
    });
    await expect(run).rejects.toMatchObject({ retryAt: 2000 });
    expect(asked.sort()).toEqual([0, 1, 2, 3]);
    const failed = await enrichEntries([provider], [{}], { provider: async () => Promise.reject(new Error('boom')) });
    expect(failed[0]).toMatchObject({ outcomes: { provider: 'error' }, errors: { provider: 'boom' } });
  });
});
