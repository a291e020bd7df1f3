// Turns a validated create request into a recorded, queued job (or its idempotent twin).
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Pool } from '../db/pool.js';
import { withTenant } from '../db/transaction.js';
import { AppError, type ErrorDetail, validationError } from '../errors.js';
import type { JobRow } from '../jobs/job.js';
import { referenceExists } from '../jobs/repository.js';
import { sanitise } from '../jobs/sanitise.js';
import type { JobTypeRegistry } from '../jobs/types/registry.js';
import type { Submitter } from '../queue/submitter.js';
import { canonicalHash } from '../util/canonical-json.js';
import { type AuthContext, requireAdmin } from './auth.js';
import type { CreateJobBody } from './schemas/job.js';
import { issuesToDetails } from './validation.js';
import { webhookTargetProblem } from '../events/webhooks/ssrf.js';

export interface CreateJobDeps {
  pool: Pool;
  appRole: string;
  registry: JobTypeRegistry;
  submitter: Submitter;
  webhookAllowPrivate: boolean;
}

export interface CreateJobOutcome {
  row: JobRow;
  created: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** What is wrong with a (schema-checked) webhook URL: https only, http too when private targets are allowed. */
export function webhookUrlProblems(url: string, allowPrivate: boolean): ErrorDetail[] {
  // Scheme, literal internal addresses (any notation) and internal names; DNS is checked at delivery.
  const problem = webhookTargetProblem(url, allowPrivate);
  return problem === null ? [] : [{ path: 'webhookUrl', message: problem }];
}

/** Validates the type-specific parts, records the job and queues it; throws AppError on bad input. */
export async function createJob(
  deps: CreateJobDeps,
  auth: AuthContext,
  body: CreateJobBody,
  idempotencyKey: string | undefined,
  log: FastifyBaseLogger,
): Promise<CreateJobOutcome> {
  const def = deps.registry.get(body.type);
  if (!def) {
    const known = deps.registry.names();
    throw new AppError('unknown_job_type', `Unknown job type "${body.type}". Known types: ${known.join(', ')}.`, [
      { path: 'type', message: `must be one of: ${known.join(', ')}`, known },
    ]);
  }
  if (def.adminOnly) requireAdmin(auth);
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw validationError([{ path: 'headers.idempotency-key', message: 'must be 1-255 visible ASCII characters' }]);
  }

  const problems: ErrorDetail[] = [];
  if (body.runAt !== undefined && body.delayMs !== undefined) problems.push({ path: 'delayMs', message: 'give runAt or delayMs, not both' });
  if (body.maxAttempts !== undefined && body.maxRetries !== undefined) problems.push({ path: 'maxRetries', message: 'give maxAttempts or maxRetries, not both' });
  if (body.webhookUrl !== undefined) problems.push(...webhookUrlProblems(body.webhookUrl, deps.webhookAllowPrivate));
  const parsed = def.payloadSchema.safeParse(body.payload);
  if (!parsed.success) {
    problems.push(...issuesToDetails(parsed.error.issues, ['payload']));
  }
  if (problems.length > 0) throw validationError(problems);
  const payload = parsed.data as Record<string, unknown>;

  if (def.references?.length) {
    const missing = await withTenant(deps.pool, deps.appRole, auth.tenantId, async (tx) => {
      const out: ErrorDetail[] = [];
      for (const ref of def.references ?? []) {
        const id = payload[ref.field];
        if (typeof id === 'string' && !(await referenceExists(tx, ref.table, id))) {
          out.push({ path: `payload.${ref.field}`, message: `no ${ref.table === 'lists' ? 'list' : 'plan'} with this id` });
        }
      }
      return out;
    });
    if (missing.length > 0) throw new AppError('unprocessable', 'A referenced resource does not exist.', missing);
  }

  const clean = sanitise(payload);
  if (clean.removed.length > 0) log.warn({ removedPaths: clean.removed.map((p) => `payload.${p}`) }, 'secret-looking keys removed from payload');

  const now = Date.now();
  const runAt = body.runAt !== undefined ? new Date(body.runAt) : body.delayMs !== undefined && body.delayMs > 0 ? new Date(now + body.delayMs) : null;
  const scheduled = runAt !== null && runAt.getTime() > now;
  const requestHash = idempotencyKey !== undefined ? canonicalHash(body) : null;
  const recorded = await deps.submitter.submit(auth.tenantId, {
    id: randomUUID(),
    type: def.name,
    status: scheduled ? 'scheduled' : 'pending',
    priority: body.priority ?? def.defaults.priority,
    payload: clean.value,
    tags: body.tags ?? [],
    maxAttempts: body.maxAttempts ?? (body.maxRetries !== undefined ? body.maxRetries + 1 : def.defaults.maxAttempts),
    timeoutMs: body.timeoutMs ?? def.defaults.timeoutMs,
    webhookUrl: body.webhookUrl ?? null,
    runAt,
    idempotencyKey: idempotencyKey ?? null,
    requestHash,
  });
  if (!recorded.created && recorded.row.request_hash !== requestHash) {
    throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used with a different body.', [
      { path: 'headers.idempotency-key', message: 'already used with another body in the last 24 hours' },
    ]);
  }
  if (recorded.created) {
    const { row } = recorded;
    log.info({ jobId: row.id, tenantId: row.tenant_id, type: row.type, from: null, to: row.status, attempt: 0 }, 'job transition');
  }
  return recorded;
}
