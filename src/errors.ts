// The one error type clients see: a code, a safe message, an HTTP status and field details.

export interface ErrorDetail {
  path: string;
  message: string;
}

/** Every code a client can receive, with its HTTP status and whether a retry can mend it. */
export const ERROR_CODES = {
  validation_error: { status: 400, description: 'The request is malformed or a field is invalid; details name the fields.' },
  unknown_job_type: { status: 400, description: 'The job type is not registered; details list the known types.' },
  invalid_csv: { status: 400, description: 'The CSV upload is malformed (quotes, field counts, encoding, or empty); the message and details name the line.' },
  invalid_json: { status: 400, description: 'The body is not valid JSON, nests too deep, or carries forbidden keys or characters.' },
  unauthorized: { status: 401, description: 'The bearer token is missing, invalid or expired.' },
  forbidden: { status: 403, description: 'The token lacks a role the call needs.' },
  not_found: { status: 404, description: 'No such resource for this tenant.' },
  conflict: { status: 409, description: 'The resource is in a state that does not allow the call.' },
  idempotency_in_flight: { status: 409, description: 'A request with this Idempotency-Key is still being processed.' },
  payload_too_large: { status: 413, description: 'The body is over the size limit.' },
  unsupported_media_type: { status: 415, description: 'The body is not JSON.' },
  unprocessable: { status: 422, description: 'A referenced resource does not exist, or the Idempotency-Key was used with another body.' },
  idempotency_key_reused: { status: 422, description: 'The Idempotency-Key was used with another body.' },
  celery_not_configured: { status: 422, description: 'A celery_task job was submitted to a server without CELERY_BROKER_URL.' },
  unavailable: { status: 503, description: 'A dependency (PostgreSQL or Redis) is not answering.' },
  internal_error: { status: 500, description: 'An unexpected error; it is logged with the request id.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error meant for a client: safe to serialise as-is. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_CODES[code].status;
  }

  /** The JSON body of the contract: {error: {code, message, details}}. */
  toBody(): { error: { code: string; message: string; details: unknown[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** A 400 naming the fields that are wrong. */
export function validationError(details: ErrorDetail[], message = 'The request is invalid.'): AppError {
  return new AppError('validation_error', message, details);
}
