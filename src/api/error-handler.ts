// Turns every error into the contract's JSON shape; logs unexpected ones once, with the request id.
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, type ErrorCode } from '../errors.js';
import { isPgConnectionError } from '../observability/connection-watch.js';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'validation_error',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
};

/** Maps any thrown value to an AppError a client may see. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // Anything can be thrown, null included: read fields only from objects.
  const fe: Partial<FastifyError> = err !== null && typeof err === 'object' ? (err as Partial<FastifyError>) : {};
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AppError('payload_too_large', 'The body is larger than the limit of 1 MiB.');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AppError('unsupported_media_type', 'The body must be JSON (Content-Type: application/json).');
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new AppError('invalid_json', 'The body is not valid JSON.');
  // PostgreSQL down is the service's outage, not a bug: 503, as /ready says.
  if (isPgConnectionError(err)) return new AppError('unavailable', 'The service is not available right now; try again shortly.');
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = CODE_BY_STATUS[status] ?? 'validation_error';
    return new AppError(code, status === 400 ? 'The request is malformed.' : 'The request cannot be served.');
  }
  if (status === 503) return new AppError('unavailable', 'The service is not available right now; try again shortly.');
  return new AppError('internal_error', 'Something went wrong on our side; it has been logged.');
}

/** Installs the error and not-found handlers. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const appError = toAppError(err);
    if (appError.status >= 500) {
      request.log.error({ err }, 'request failed');
    } else {
      request.log.info({ code: appError.code, status: appError.status }, 'request refused');
    }
    void reply.status(appError.status).send(appError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(new AppError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`).toBody());
  });
}
