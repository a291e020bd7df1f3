// `enrichd submit`: posts a job to a running API and optionally waits for it to finish.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../jobs/job.js';
import { isFinished } from '../jobs/status.js';

export interface SubmitOptions {
  url: string;
  token: string;
  type: string;
  payload: Record<string, unknown>;
  priority?: number;
  delayMs?: number;
  maxAttempts?: number;
  idempotencyKey?: string;
  wait: boolean;
  waitTimeoutMs: number;
  out: (line: string) => void;
}

async function call(url: string, token: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** Submits; returns the process exit code (0 accepted or completed, 1 refused, failed or cancelled). */
export async function submitJob(o: SubmitOptions): Promise<number> {
  const body: Record<string, unknown> = { type: o.type, payload: o.payload };
  if (o.priority !== undefined) body.priority = o.priority;
  if (o.delayMs !== undefined) body.delayMs = o.delayMs;
  if (o.maxAttempts !== undefined) body.maxAttempts = o.maxAttempts;
  const headers: Record<string, string> = o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {};
  const created = await call(`${o.url}/v1/enrichment/jobs`, o.token, { method: 'POST', body: JSON.stringify(body), headers });
  if (created.status !== 202 && created.status !== 200) {
    o.out(JSON.stringify(created.body, null, 2));
    return 1;
  }
  let job = created.body as Job;
  if (!o.wait) {
    o.out(JSON.stringify(job, null, 2));
    return 0;
  }
  const tty = process.stderr.isTTY;
  const deadline = Date.now() + o.waitTimeoutMs;
  let last = '';
  while (!isFinished(job.status)) {
    if (Date.now() > deadline) {
      o.out(JSON.stringify(job, null, 2));
      process.stderr.write(`\ngave up waiting after ${o.waitTimeoutMs} ms; the job goes on\n`);
      return 1;
    }
    const line = `${job.id} ${job.status} attempt ${job.attempts}/${job.maxAttempts} ${job.progress.processed}/${job.progress.total}`;
    if (line !== last) {
      process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
      last = line;
    }
    await sleep(250);
    const read = await call(`${o.url}/v1/enrichment/jobs/${job.id}`, o.token);
    if (read.status !== 200) {
      o.out(JSON.stringify(read.body, null, 2));
      return 1;
    }
    job = read.body as Job;
  }
  if (tty) process.stderr.write('\n');
  o.out(JSON.stringify(job, null, 2));
  return job.status === 'completed' ? 0 : 1;
}
