// What a job type declares once: its name, payload schema and defaults.
import type { z } from 'zod';
import type { BackoffPolicy } from '../backoff.js';

export interface JobTypeDefaults {
  maxAttempts: number;
  priority: number;
  timeoutMs: number;
  /** Overrides RETRY_* for this type; unset parts come from the configuration. */
  backoff?: Partial<BackoffPolicy>;
}

/** A payload field that names another tenant resource, checked at submit (422 when absent). */
export interface JobReference {
  field: string;
  table: 'lists' | 'enrichment_plans';
}

export interface JobTypeDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  payloadSchema: S;
  defaults: JobTypeDefaults;
  /** Only tokens with the admin role may submit it. */
  adminOnly?: boolean;
  references?: JobReference[];
}

export const DEFAULT_TYPE_DEFAULTS: JobTypeDefaults = { maxAttempts: 3, priority: 3, timeoutMs: 300_000 };

/** Declares a job type, filling unset defaults (3 attempts, priority 3, 5 min timeout). */
export function jobType<S extends z.ZodType>(
  def: Omit<JobTypeDefinition<S>, 'defaults'> & { defaults?: Partial<JobTypeDefaults> },
): JobTypeDefinition<S> {
  return { ...def, defaults: { ...DEFAULT_TYPE_DEFAULTS, ...def.defaults } };
}
