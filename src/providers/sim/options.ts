// What the provider simulator can be told to do: hit rate, latency, faults, storms, quotas, webhooks.
import { z } from 'zod';

export const SIM_PROVIDERS = ['hunter', 'apollo', 'pdl', 'prospeo', 'clearbit'] as const;
export type SimProviderName = (typeof SIM_PROVIDERS)[number];

const rate = z.number().min(0).max(1);
const ms = z.number().int().min(0).max(600_000);
const providerOrAll = z.union([z.enum(SIM_PROVIDERS), z.literal('*')]);

/** Behaviour one provider can override. */
const behaviourSchema = z
  .object({
    /** share of distinct people this provider knows */
    hitRate: rate,
    /** ms before each answer, plus up to latencyJitterMs more */
    latencyMs: ms,
    latencyJitterMs: ms,
    /** share of calls answered 500 */
    errorRate: rate,
    /** share of calls never answered (held until the client gives up) */
    timeoutRate: rate,
  })
  .strict();

/**
 * A 429/403 storm: calls after the first `afterCalls` of a provider are throttled, for
 * `calls` calls or `durationMs` from the first throttled one (forever when neither is set).
 * `status` defaults to the provider's own throttle status (Hunter 403, others 429).
 */
export const stormSchema = z
  .object({
    provider: providerOrAll,
    afterCalls: z.number().int().min(0).default(0),
    calls: z.number().int().min(1).optional(),
    durationMs: ms.optional(),
    /** sent as Retry-After; unset: no Retry-After header */
    retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
    status: z.union([z.literal(403), z.literal(429)]).optional(),
  })
  .strict();

export const simOptionsSchema = z
  .object({
    /** loopback only */
    host: z.enum(['127.0.0.1', '::1', 'localhost']).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(0),
    seed: z.union([z.string(), z.number()]).transform(String).default('1'),
    ...behaviourSchema.partial().shape,
    /** per provider overrides of the behaviour above ("provider down": errorRate 1) */
    providers: z.partialRecord(z.enum(SIM_PROVIDERS), behaviourSchema.partial()).default({}),
    storms: z.array(stormSchema).default([]),
    /** answered lookups after which a provider answers "out of credits" */
    quota: z.partialRecord(z.enum(SIM_PROVIDERS), z.number().int().min(0)).default({}),
    /** share of people Hunter answers 451 for (asked not to process them) */
    forbiddenRate: rate.default(0),
    /** when set, the auth header or key every provider requires; otherwise any non-empty key passes */
    apiKey: z.string().min(1).optional(),
    /** how long a timed-out call is held before the socket is dropped */
    hangMs: ms.default(120_000),
    clearbit: z
      .object({
        /** share of Clearbit lookups answered 202 (queued), their answer posted to webhookUrl */
        queueRate: rate.default(0),
        webhookUrl: z.string().url().optional(),
        webhookSecret: z.string().min(1).optional(),
        webhookDelayMs: ms.default(50),
      })
      .strict()
      .default({ queueRate: 0, webhookDelayMs: 50 }),
  })
  .strict();

export type ProviderSimOptions = z.input<typeof simOptionsSchema>;
export type ResolvedSimOptions = z.output<typeof simOptionsSchema>;
export type SimStorm = z.output<typeof stormSchema>;
export type SimBehaviour = z.output<typeof behaviourSchema>;

const BEHAVIOUR_DEFAULTS: SimBehaviour = { hitRate: 0.7, latencyMs: 0, latencyJitterMs: 0, errorRate: 0, timeoutRate: 0 };

/** The behaviour of one provider: its overrides over the global settings over the defaults. */
export function behaviourOf(o: ResolvedSimOptions, provider: SimProviderName): SimBehaviour {
  const own = o.providers[provider] ?? {};
  const pickOne = <K extends keyof SimBehaviour>(k: K): SimBehaviour[K] => own[k] ?? o[k] ?? BEHAVIOUR_DEFAULTS[k];
  return { hitRate: pickOne('hitRate'), latencyMs: pickOne('latencyMs'), latencyJitterMs: pickOne('latencyJitterMs'), errorRate: pickOne('errorRate'), timeoutRate: pickOne('timeoutRate') };
}
