// GET /job-types: the registry as clients see it (names, defaults, payload JSON Schemas).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { JobTypeRegistry } from '../../jobs/types/registry.js';

/** The JSON Schema of a type's payload, as a client sends it. */
export function payloadJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** OpenAPI component name of a type's payload schema: test_job -> TestJobPayload. */
export function payloadComponentName(type: string): string {
  return `${type.replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase())}Payload`;
}

/** Registers GET /job-types. */
export async function jobTypeRoutes(app: FastifyInstance, opts: { registry: JobTypeRegistry; hidden: boolean }): Promise<void> {
  app.get('/job-types', {
    schema: {
      hide: opts.hidden,
      tags: ['jobs'],
      summary: 'List the registered job types with their defaults and payload schemas',
      security: [{ bearerAuth: [] }],
    },
  }, async () => ({
    items: opts.registry.all().map((d) => ({
      name: d.name,
      description: d.description,
      adminOnly: d.adminOnly === true,
      defaults: { maxAttempts: d.defaults.maxAttempts, priority: d.defaults.priority, timeoutMs: d.defaults.timeoutMs },
      payloadSchema: payloadJsonSchema(d.payloadSchema),
    })),
  }));
}
