// email_validation and company_data_update: one local step over a list of items in the payload.
import { z } from 'zod';
import { jobType } from './job-type.js';

const MAX_ITEMS = 10_000;

/** email_validation's payload. */
export const emailValidationPayload = z.strictObject({
  emails: z.array(z.string().max(320)).min(1).max(MAX_ITEMS),
  providerId: z.string().min(1).max(64).optional(),
});

/** company_data_update's payload. */
export const companyDataUpdatePayload = z.strictObject({
  domains: z.array(z.string().max(2048)).min(1).max(MAX_ITEMS),
});

export const emailValidationJob = jobType({
  name: 'email_validation',
  description: `Validates up to ${MAX_ITEMS} email addresses offline (syntax, IDN, public suffix, disposable, role, free mail).`,
  payloadSchema: emailValidationPayload,
});

export const companyDataUpdate = jobType({
  name: 'company_data_update',
  description: `Normalises up to ${MAX_ITEMS} company domains or URLs to their registrable domain.`,
  payloadSchema: companyDataUpdatePayload,
});
