// Small helpers to call the API through app.inject and read jobs from the database.
import type { FastifyInstance } from 'fastify';
import type { Job } from '../../src/jobs/job.js';
import type { TestSystem } from './system.js';

export interface InjectResult<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

/** POSTs JSON with a bearer token. */
export async function postJson<T = Job>(app: FastifyInstance, url: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<InjectResult<T>> {
  const res = await app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.json() as T, headers: res.headers };
}

/** GETs with a bearer token. */
export async function getJson<T = Job>(app: FastifyInstance, url: string, token: string): Promise<InjectResult<T>> {
  const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json() as T, headers: res.headers };
}

/** The job's events in order, straight from PostgreSQL. */
export async function jobEvents(sys: TestSystem, jobId: string): Promise<{ from_status: string | null; to_status: string; attempt: number; worker_id: string | null; message: string | null }[]> {
  const { rows } = await sys.services.pool.query(
    'SELECT from_status, to_status, attempt, worker_id, message FROM enrichment_job_events WHERE job_id = $1::uuid ORDER BY id',
    [jobId],
  );
  return rows;
}
