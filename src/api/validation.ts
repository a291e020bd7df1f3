// Zod validation for routes, with errors as the contract's field-level details.
import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { type ErrorDetail, validationError } from '../errors.js';

/** Converts zod issues into dot-path details; an unknown key is named in its own path. */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[], prefix: string[] = []): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    const base = [...prefix, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) details.push({ path: [...base, key].join('.'), message: 'is not a known field' });
    } else {
      details.push({ path: base.join('.'), message: issue.message });
    }
  }
  return details;
}

const CONTEXT_PREFIX: Record<string, string[]> = { body: [], params: [], querystring: [], headers: ['headers'] };

/** Fastify validator compiler for zod schemas: returns the parsed value or a 400 AppError. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const prefix = CONTEXT_PREFIX[httpPart ?? 'body'] ?? [];
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    return { error: validationError(issuesToDetails(result.error.issues, prefix)) };
  };
};
