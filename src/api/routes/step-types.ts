// GET /step-types: the plan step types with their options (JSON Schema) and the providers a
// `provider` step may name, so a client (the dashboard's plan builder) can build a plan form.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STEP_TYPES, type StepType, planStepSchema } from '../../enrich/plan.js';
import { BUILT_IN_PROVIDERS } from '../../providers/config.js';
import { errorResponse } from '../schemas/job.js';

export interface StepTypeRoutesOptions {
  /** providers whose adapter is on in this process (a key is set, or a generic definition) */
  configuredProviders: readonly string[];
  hidden: boolean;
}

const DESCRIPTIONS: Record<StepType, string> = {
  rpc_score: 'Scores whether the candidate contact (contact_* columns) is the entry\'s own person: rpc, wpc or review.',
  email_validation: 'Checks the email column: syntax, disposable and role addresses, free mail.',
  phone_normalization: 'Normalises the phone column to E.164 (defaultCountry, else the entry\'s country, else US).',
  company_domain: 'Derives the registrable company domain from the domain or email column.',
  provider: 'Asks paid providers, in waterfall order, for an email, phone, company or social profile.',
};

const stepTypeItem = z
  .object({
    type: z.enum(STEP_TYPES as [StepType, ...StepType[]]),
    description: z.string(),
    local: z.boolean().describe('runs in the worker without calling outside services'),
    optionsSchema: z.record(z.string(), z.unknown()).describe('JSON Schema of the step\'s options'),
  })
  .meta({ id: 'PlanStepType' });

const stepTypesResponse = z.object({
  items: z.array(stepTypeItem),
  providers: z.array(z.object({ name: z.string(), configured: z.boolean() })).describe('names a provider step may use; configured ones have their adapter on'),
});

/** The JSON Schema of one step type's options, from the plan's own zod schema. */
function optionsSchemaOf(type: StepType): Record<string, unknown> {
  const variant = planStepSchema.options.find((o) => o.shape.type.value === type);
  if (!variant) throw new Error(`no schema for step type ${type}`);
  return z.toJSONSchema(variant.shape.options, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** Registers GET /step-types (under /v1/enrichment and its alias). */
export async function stepTypeRoutes(app: FastifyInstance, opts: StepTypeRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const configured = new Set(opts.configuredProviders);
  const names = [...new Set([...BUILT_IN_PROVIDERS, ...opts.configuredProviders])];
  const body = {
    items: STEP_TYPES.map((type) => ({ type, description: DESCRIPTIONS[type], local: type !== 'provider', optionsSchema: optionsSchemaOf(type) })),
    providers: names.map((name) => ({ name, configured: configured.has(name) })),
  };
  r.get('/step-types', {
    schema: {
      hide: opts.hidden,
      tags: ['plans'],
      summary: 'List the plan step types with their options',
      description: 'Each step type (in the documented order) with a JSON Schema of its options, and the provider names a provider step may use.',
      security: [{ bearerAuth: [] }],
      response: { 200: stepTypesResponse, 401: errorResponse },
    },
  }, async () => body);
}
