// @vitest-environment node
// The plan builder's fields from the step types' options schemas, and the plan body it makes.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { STEP_TYPES, createPlanBody, planStepSchema } from '../../src/enrich/plan';
import type { JsonSchema, StepType } from '../../web/src/api/types';
import { buildPlanBody, optionFields } from '../../web/src/lib/plan-form';

// The same schemas GET /v1/enrichment/step-types serves.
const types: StepType[] = STEP_TYPES.map((type) => {
  const variant = planStepSchema.options.find((o) => o.shape.type.value === type)!;
  return { type, description: '', local: type !== 'provider', optionsSchema: z.toJSONSchema(variant.shape.options, { io: 'input', unrepresentable: 'any' }) as JsonSchema };
});
const of = (t: string) => types.find((x) => x.type === t)!.optionsSchema;

describe('plan form', () => {
  it('derives the option fields of each step type', () => {
    expect(optionFields(of('rpc_score'))).toEqual([
      { name: 'rpcThreshold', kind: 'number', required: false, min: 0, max: 100 },
      { name: 'wpcThreshold', kind: 'number', required: false, min: 0, max: 100 },
    ]);
    expect(optionFields(of('email_validation'))).toEqual([]);
    expect(optionFields(of('phone_normalization'))).toEqual([{ name: 'defaultCountry', kind: 'text', required: false }]);
    const provider = optionFields(of('provider'));
    expect(provider.find((f) => f.name === 'providers')).toMatchObject({ kind: 'providers', required: true });
    expect(provider.find((f) => f.name === 'want')).toMatchObject({ kind: 'choice', required: true, choices: ['email', 'phone', 'company', 'social'] });
  });

  it('builds a body the API accepts, steps in the documented order, numbers as numbers', () => {
    const { body, problems } = buildPlanBody(' people ', '0.2', types, [
      { type: 'phone_normalization', enabled: true, values: { defaultCountry: 'GB' } },
      { type: 'rpc_score', enabled: true, values: { rpcThreshold: '80', wpcThreshold: '' } },
      { type: 'email_validation', enabled: false, values: {} },
    ]);
    expect(problems).toEqual([]);
    expect(body).toEqual({
      name: 'people',
      errorThreshold: 0.2,
      steps: [
        { type: 'rpc_score', options: { rpcThreshold: 80 } },
        { type: 'phone_normalization', options: { defaultCountry: 'GB' } },
      ],
    });
    expect(createPlanBody.safeParse(body).success).toBe(true);
  });

  it('names the field of each problem', () => {
    const { body, problems } = buildPlanBody('', '2', types, [
      { type: 'rpc_score', enabled: true, values: { rpcThreshold: '120' } },
      { type: 'provider', enabled: true, values: { providers: [] } },
    ]);
    expect(body).toBeNull();
    expect(problems.map((p) => p.path)).toEqual(['name', 'errorThreshold', 'rpc_score.rpcThreshold', 'provider.providers', 'provider.want']);
    expect(buildPlanBody('x', '', types, []).problems).toEqual([{ path: 'steps', message: 'Choose at least one step.' }]);
  });
});
