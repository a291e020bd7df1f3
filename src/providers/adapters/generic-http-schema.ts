// The data that defines a generic HTTP JSON provider: a user adds a provider without code.
import { z } from 'zod';
import { LOOKUP_WANTS, type LookupWant } from '../provider.js';

const statuses = z.array(z.number().int().min(100).max(599));
/** A dotted JSON path into the response body: `data.email`, `person.emails[0].address`. */
const jsonPath = z.string().min(1).max(200).regex(/^[A-Za-z0-9_$-]+(\[\d+\])*(\.[A-Za-z0-9_$-]+(\[\d+\])*)*$/, 'must be a dotted path like data.emails[0].address');
// Only placeholders the adapter knows, so a typo fails at start rather than in every call.
export const PLACEHOLDERS = ['firstName', 'lastName', 'fullName', 'domain', 'company', 'email', 'linkedinUrl', 'phone', 'want'] as const;

export const genericProviderSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be lower-case letters, digits and _'),
    wants: z.array(z.enum(LOOKUP_WANTS as [LookupWant, ...LookupWant[]])).min(1),
    /** names the endpoint for limits and cache (default: "default") */
    endpoint: z.string().min(1).max(64).default('default'),
    request: z
      .object({
        method: z.enum(['GET', 'POST']).default('GET'),
        /** http(s) URL with {placeholders}, each URL-encoded; a lookup missing one is not asked */
        url: z.string().min(1),
        headers: z.record(z.string(), z.string()).default({}),
        /** POST body: JSON whose string leaves may be one whole "{placeholder}" (an absent one drops the key) */
        body: z.unknown().optional(),
        auth: z
          .object({
            /** the environment variable holding the secret; the provider is off while it is unset */
            valueFrom: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an environment variable name'),
            header: z.string().min(1).default('authorization'),
            /** put before the secret, e.g. "Bearer " */
            prefix: z.string().default(''),
            /** send it as this query parameter instead of a header */
            query: z.string().min(1).optional(),
          })
          .optional(),
        timeoutMs: z.number().int().min(1).max(120_000).optional(),
      })
      .strict(),
    response: z
      .object({
        /** where the answer is; one path for every want, or one per want */
        value: z.union([jsonPath, z.record(z.string(), jsonPath)]),
        /** the credits a hit costs: a number, or a path to a number in the body (default 1) */
        hitCredits: z.union([z.number().min(0), jsonPath]).default(1),
        /** the credits a miss costs (default 0) */
        missCredits: z.number().min(0).default(0),
        missStatuses: statuses.default([404]),
        throttledStatuses: statuses.default([429]),
        quotaStatuses: statuses.default([402]),
        forbiddenStatuses: statuses.default([451]),
      })
      .strict(),
  })
  .strict()
  .superRefine((def, ctx) => {
    const used = [...def.request.url.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '');
    for (const name of used) {
      if (!(PLACEHOLDERS as readonly string[]).includes(name)) ctx.addIssue({ code: 'custom', path: ['request', 'url'], message: `unknown placeholder {${name}}; known: ${PLACEHOLDERS.join(', ')}` });
    }
    if (!/^https?:\/\//.test(def.request.url)) ctx.addIssue({ code: 'custom', path: ['request', 'url'], message: 'must start with http:// or https://' });
  });

export type GenericProviderDefinition = z.output<typeof genericProviderSchema>;
export const genericProvidersSchema = z.array(genericProviderSchema);
