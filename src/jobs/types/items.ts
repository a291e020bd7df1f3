// email_validation and company_data_update (items in the payload), social_profile_discovery (one lead).
import { z } from 'zod';
import { isKnownProvider } from '../../enrich/steps/provider-step.js';
import { jobType } from './job-type.js';

const MAX_ITEMS = 10_000;

/** email_validation's payload. */
export const emailValidationPayload = z.strictObject({
  emails: z.array(z.string().max(320)).min(1).max(MAX_ITEMS),
  providerId: z.string().min(1).max(64).optional(),
});

const providerNames = z
  .array(z.string().min(1).max(64).refine(isKnownProvider, { message: 'is not a known provider' }))
  .min(1)
  .max(10)
  .describe('providers to ask, in waterfall order (default: every configured one that can answer)');
const maxCredits = z.number().min(0).max(1_000_000_000).describe('the most credits this job may spend on provider lookups');

/** company_data_update's payload. */
export const companyDataUpdatePayload = z.strictObject({
  domains: z.array(z.string().max(2048)).min(1).max(MAX_ITEMS),
  providers: providerNames.optional(),
  maxCredits: maxCredits.optional(),
});

/** social_profile_discovery's payload. */
export const socialProfileDiscoveryPayload = z.strictObject({
  lead: z.looseObject({}).describe('entry columns (first_name, last_name, email, domain, company, ...)'),
  providers: providerNames.optional(),
  maxCredits: maxCredits.optional(),
});

export const emailValidationJob = jobType({
  name: 'email_validation',
  description: `Validates up to ${MAX_ITEMS} email addresses offline (syntax, IDN, public suffix, disposable, role, free mail).`,
  payloadSchema: emailValidationPayload,
});

export const companyDataUpdate = jobType({
  name: 'company_data_update',
  description: `Normalises up to ${MAX_ITEMS} company domains or URLs to their registrable domain, and asks the configured company providers about each (a waterfall).`,
  payloadSchema: companyDataUpdatePayload,
});

export const socialProfileDiscovery = jobType({
  name: 'social_profile_discovery',
  description: 'Finds a lead\'s social profile through the configured providers (a waterfall); fails with provider_not_configured when none can answer.',
  payloadSchema: socialProfileDiscoveryPayload,
});
