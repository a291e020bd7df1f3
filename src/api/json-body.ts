// The JSON body parser: plain JSON.parse, then our guard against prototype keys, depth and NUL.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import { findJsonProblem } from '../jobs/json-guard.js';

/**
 * Replaces Fastify's parsers with one for JSON that refuses what the contract refuses, as 400s.
 * Fastify's built-in text/plain parser goes too: a non-JSON body is a 415, not a string that
 * fails validation. Routes that take other types (CSV uploads) add their own parsers.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    let value: unknown;
    try {
      value = JSON.parse(body as string);
    } catch {
      done(new AppError('invalid_json', 'The body is not valid JSON.'), undefined);
      return;
    }
    const problem = findJsonProblem(value);
    if (problem) {
      done(new AppError('invalid_json', `The body is not acceptable: ${problem.message}.`, [problem]), undefined);
      return;
    }
    done(null, value);
  });
}
