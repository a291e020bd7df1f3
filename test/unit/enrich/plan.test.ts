// Plans: step schemas and running a plan over one entry (errors recorded, missing inputs skipped).
import { describe, expect, it } from 'vitest';
import { type PlanStep, createPlanBody, enrichEntry, planStepsSchema, runLocalStep } from '../../../src/enrich/plan.js';

const ALL: PlanStep[] = [
  { type: 'rpc_score', options: {} },
  { type: 'email_validation', options: {} },
  { type: 'phone_normalization', options: {} },
  { type: 'company_domain', options: {} },
];

describe('plan schema', () => {
  it('fills default options and errorThreshold 1', () => {
    const body = createPlanBody.parse({ name: ' p ', steps: [{ type: 'email_validation' }] });
    expect(body).toEqual({ name: 'p', steps: [{ type: 'email_validation', options: {} }], errorThreshold: 1 });
  });

  it('names the field of a bad step', () => {
    const paths = (v: unknown) => (planStepsSchema.safeParse(v).error?.issues ?? []).map((i) => i.path.join('.'));
    expect(paths([{ type: 'rpc_score', options: { rpcThreshold: 101 } }])).toEqual(['0.options.rpcThreshold']);
    expect(paths([{ type: 'rpc_score', options: { rpcThreshold: 20, wpcThreshold: 40 } }])).toEqual(['0.options.wpcThreshold']);
    expect(paths([{ type: 'phone_normalization', options: { defaultCountry: 'Atlantis' } }])).toEqual(['0.options.defaultCountry']);
    expect(paths([{ type: 'email_validation', options: { strict: true } }])).toEqual(['0.options']);
    expect(paths([{ type: 'teleport' }])).toEqual(['0.type']);
    expect(paths([{ type: 'company_domain' }, { type: 'company_domain' }])).toEqual(['1.type']);
    expect(paths([])).toEqual(['']);
  });

  it('accepts a country name or code as defaultCountry', () => {
    expect(planStepsSchema.safeParse([{ type: 'phone_normalization', options: { defaultCountry: 'GB' } }]).success).toBe(true);
    expect(planStepsSchema.safeParse([{ type: 'phone_normalization', options: { defaultCountry: 'Germany' } }]).success).toBe(true);
  });
});

describe('enrichEntry', () => {
  it('runs every step, skipping those whose input is missing', () => {
    const e = enrichEntry(ALL, { first_name: 'Ann', last_name: 'Lee' });
    expect(e.errors).toBeNull();
    expect(e.results).toEqual({
      rpc_score: { class: null, skipped: 'no_contact' },
      email_validation: { skipped: 'missing_input' },
      phone_normalization: { skipped: 'missing_input' },
      company_domain: { skipped: 'missing_input' },
    });
    expect(e.outcomes).toEqual({ rpc_score: 'skipped', email_validation: 'skipped', phone_normalization: 'skipped', company_domain: 'skipped' });
  });

  it('labels results by class, status and validity', () => {
    const e = enrichEntry(ALL, { email: 'info@gmail.com', phone: 'call me', company: 'https://shop.acme.co.uk', contact_first_name: 'Ann', first_name: 'Zed', last_name: 'Q', contact_last_name: 'Lee' });
    expect(e.outcomes.email_validation).toBe('risky');
    expect(e.outcomes.phone_normalization).toBe('invalid');
    expect(e.outcomes.company_domain).toBe('free_mail');
    expect(e.outcomes.rpc_score).toBe('wpc');
  });

  it('records a step that raises, and still runs the others', () => {
    const e = enrichEntry(ALL, { email: 'a@acme.io', phone: '+1 415 555 0100' }, (step, entry) => {
      if (step.type === 'phone_normalization') throw new Error('x'.repeat(900));
      return runLocalStep(step, entry);
    });
    expect(e.errors).toEqual({ phone_normalization: 'x'.repeat(500) });
    expect(e.outcomes.phone_normalization).toBe('error');
    expect(e.results.phone_normalization).toBeUndefined();
    expect(e.results.email_validation).toMatchObject({ status: 'valid' });
  });
});
