// `enrichd/client`: a typed HTTP client of the enrichd API (the contract's paths and shapes).
import type { Job } from '../jobs/job.js';
import type { JobStatus } from '../jobs/status.js';

export type { Job, JobError } from '../jobs/job.js';
export type { JobStatus } from '../jobs/status.js';

/** What POST /v1/enrichment/jobs takes. */
export interface DispatchJobInput {
  type: string;
  payload?: Record<string, unknown>;
  priority?: number;
  runAt?: string;
  delayMs?: number;
  maxAttempts?: number;
  timeoutMs?: number;
  webhookUrl?: string;
  tags?: string[];
  /** sent as the Idempotency-Key header */
  idempotencyKey?: string;
}

/** Filters of GET /v1/enrichment/jobs. */
export interface ListJobsQuery {
  status?: JobStatus | JobStatus[];
  type?: string;
  tag?: string;
  q?: string;
  createdAfter?: string;
  createdBefore?: string;
  limit?: number;
  cursor?: string;
}

/** A page of jobs, newest first. */
export interface JobPage {
  items: Job[];
  nextCursor: string | null;
}

/** The API's error, as a value: code, safe message, field details, HTTP status. */
export class EnrichdApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
    this.name = 'EnrichdApiError';
  }
}

export interface ClientOptions {
  /** e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  /** a JWT (see `enrichd token`) */
  token: string;
  /** replaces the global fetch (tests, proxies) */
  fetch?: typeof fetch;
}

/** One live event (GET /v1/events or a job's events). */
export interface ClientEvent {
  /** pass as lastEventId to resume after this event */
  id: string;
  type: 'job.created' | 'job.started' | 'job.progress' | 'job.completed' | 'job.failed' | 'job.cancelled' | 'job.retrying';
  job: Job;
}

/** Options of the live event stream. */
export interface EventsOptions {
  /** only this job's events */
  jobId?: string;
  /** resume after this event (on any API instance) */
  lastEventId?: string;
  /** ends the stream */
  signal?: AbortSignal;
}

/** The client's calls. */
export interface EnrichdClient {
  /** Submits a job; resolves with it as recorded (pending or scheduled). */
  dispatchJob(input: DispatchJobInput): Promise<Job>;
  /** One job of the token's tenant. */
  getJob(id: string): Promise<Job>;
  /** A page of the tenant's jobs. */
  listJobs(query?: ListJobsQuery): Promise<JobPage>;
  /** Cancels an unfinished job. */
  cancelJob(id: string): Promise<Job>;
  /** Retries a failed or cancelled job (or only a list job's failed entries). */
  retryJob(id: string, scope?: 'job' | 'failed_entries'): Promise<Job>;
  /** Live events, oldest first, until the signal aborts or the server ends the stream. */
  events(opts?: EventsOptions): AsyncIterable<ClientEvent>;
  /** Polls a job until it has finished (completed, failed or cancelled). */
  waitForJob(id: string, opts?: { intervalMs?: number; timeoutMs?: number }): Promise<Job>;
}

const FINISHED: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** Makes a client for one API and token. */
export function createClient(opts: ClientOptions): EnrichdClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;

  async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await doFetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${opts.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      throw new EnrichdApiError(res.status, 'invalid_response', `the API answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string; details?: unknown[] } } | null)?.error;
      throw new EnrichdApiError(res.status, err?.code ?? 'http_error', err?.message ?? `the API answered ${res.status}`, err?.details ?? []);
    }
    return parsed as T;
  }

  const jobPath = (id: string) => `/v1/enrichment/jobs/${encodeURIComponent(id)}`;

  return {
    dispatchJob({ idempotencyKey, ...body }) {
      return call<Job>('POST', '/v1/enrichment/jobs', body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
    },
    getJob(id) {
      return call<Job>('GET', jobPath(id));
    },
    listJobs(query = {}) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v === undefined) continue;
        params.set(k, Array.isArray(v) ? v.join(',') : String(v));
      }
      const qs = params.toString();
      return call<JobPage>('GET', `/v1/enrichment/jobs${qs ? `?${qs}` : ''}`);
    },
    cancelJob(id) {
      return call<Job>('DELETE', jobPath(id));
    },
    retryJob(id, scope = 'job') {
      return call<Job>('POST', `${jobPath(id)}/retry`, { scope });
    },
    async *events({ jobId, lastEventId, signal } = {}) {
      const path = jobId ? `${jobPath(jobId)}/events` : '/v1/events';
      const res = await doFetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${opts.token}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        ...(signal ? { signal } : {}),
      });
      if (!res.ok || !res.body) {
        const err = (JSON.parse((await res.text()) || '{}') as { error?: { code?: string; message?: string } }).error;
        throw new EnrichdApiError(res.status, err?.code ?? 'http_error', err?.message ?? `the API answered ${res.status}`);
      }
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const event = parseEventBlock(block);
            if (event) yield event;
          }
        }
      } catch (err) {
        if (!signal?.aborted) throw err;
      }
    },
    async waitForJob(id, { intervalMs = 250, timeoutMs = 60_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await call<Job>('GET', jobPath(id));
        if (FINISHED.includes(job.status)) return job;
        if (Date.now() >= deadline) throw new EnrichdApiError(0, 'timeout', `job ${id} is still ${job.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    },
  };
}

/** One SSE block as an event; null for comments (keep-alives) and anything else. */
function parseEventBlock(block: string): ClientEvent | null {
  let id: string | undefined;
  let data: string | undefined;
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('data: ')) data = (data === undefined ? '' : `${data}\n`) + line.slice(6);
  }
  if (id === undefined || data === undefined) return null;
  const parsed = JSON.parse(data) as { type: ClientEvent['type']; job: Job };
  return { id, type: parsed.type, job: parsed.job };
}
