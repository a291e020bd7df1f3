// The library: a job type added in code with enrichd/worker, driven through enrichd/client.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { signToken } from '../../src/api/token.js';
import { EnrichdApiError, type EnrichdClient, createClient } from '../../src/client/index.js';
import { PermanentJobError, type RunningEnrichd, defineJobType, startEnrichd } from '../../src/worker/index.js';
import { ROOT } from '../helpers/processes.js';
import { createTestDatabase, deletePrefix, testPrefix } from '../helpers/system.js';
import { REDIS_URL, TEST_APP_ROLE, TEST_JWT_SECRET } from '../helpers/urls.js';

const wordCount = defineJobType({
  name: 'word_count',
  description: 'Counts the words of a text.',
  schema: z.strictObject({ text: z.string().min(1).max(10_000) }),
  async handler({ payload }) {
    if (payload.text === 'poison') throw new PermanentJobError('cannot count poison', 'poison');
    return { words: payload.text.trim().split(/\s+/).length };
  },
  defaults: { maxAttempts: 2 },
});

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const prefix = testPrefix('lib');
let running: RunningEnrichd;
let client: EnrichdClient;

beforeAll(async () => {
  db = await createTestDatabase('lib');
  running = await startEnrichd({
    types: [wordCount],
    env: { DATABASE_URL: db.url, DATABASE_APP_ROLE: TEST_APP_ROLE, REDIS_URL, QUEUE_PREFIX: prefix, JWT_SECRET: TEST_JWT_SECRET, PORT: '0', LOG_LEVEL: 'silent', POLL_INTERVAL: '200' },
  });
  client = createClient({ baseUrl: running.url!, token: await signToken(TEST_JWT_SECRET, { tenantId: randomUUID(), ttl: '1h' }) });
});
afterAll(async () => {
  await running?.stop();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

describe('enrichd/worker and enrichd/client', () => {
  it('runs a job type defined in code', async () => {
    const job = await client.dispatchJob({ type: 'word_count', payload: { text: 'one two  three' }, tags: ['lib'] });
    expect(job.status).toBe('pending');
    expect(job.maxAttempts).toBe(2);
    const done = await client.waitForJob(job.id, { intervalMs: 50, timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(done.result).toEqual({ words: 3 });
    expect((await client.getJob(job.id)).id).toBe(job.id);
    const page = await client.listJobs({ type: 'word_count', tag: 'lib', status: ['completed'] });
    expect(page.items.map((j) => j.id)).toEqual([job.id]);
    expect(page.nextCursor).toBeNull();
  });

  it('validates payloads with the type\'s schema and fails a job on a permanent error', async () => {
    const err = await client.dispatchJob({ type: 'word_count', payload: { text: '' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnrichdApiError);
    expect(err).toMatchObject({ status: 400, code: 'validation_error' });
    expect((err as EnrichdApiError).details).toContainEqual(expect.objectContaining({ path: 'payload.text' }));
    const poisoned = await client.waitForJob((await client.dispatchJob({ type: 'word_count', payload: { text: 'poison' } })).id, { intervalMs: 50 });
    expect(poisoned).toMatchObject({ status: 'failed', attempts: 1, lastError: { code: 'poison' } });
  });

  it('cancels, retries, and reports a missing job as a 404', async () => {
    const later = await client.dispatchJob({ type: 'word_count', payload: { text: 'a b' }, delayMs: 60_000, idempotencyKey: 'later-1' });
    expect(later.status).toBe('scheduled');
    expect((await client.dispatchJob({ type: 'word_count', payload: { text: 'a b' }, delayMs: 60_000, idempotencyKey: 'later-1' })).id).toBe(later.id);
    expect((await client.cancelJob(later.id)).status).toBe('cancelled');
    expect((await client.retryJob(later.id)).status).toBe('pending');
    expect(await client.waitForJob(later.id, { intervalMs: 50 })).toMatchObject({ status: 'completed', result: { words: 2 } });
    await expect(client.getJob(randomUUID())).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('follows a job through the live events, and resumes after an event', async () => {
    const ac = new AbortController();
    const seen: { id: string; type: string; status: string }[] = [];
    const reading = (async () => {
      for await (const e of client.events({ signal: ac.signal })) {
        seen.push({ id: e.id, type: e.type, status: e.job.status });
        if (e.type === 'job.completed') ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const job = await client.dispatchJob({ type: 'word_count', payload: { text: 'live events' } });
    await reading;
    expect(seen.map((e) => e.type)).toEqual(['job.created', 'job.started', 'job.completed']);
    const again = new AbortController();
    const resumed: string[] = [];
    for await (const e of client.events({ jobId: job.id, lastEventId: seen[0]!.id, signal: again.signal })) {
      resumed.push(e.type);
      if (e.type === 'job.completed') again.abort();
    }
    expect(resumed).toEqual(['job.started', 'job.completed']);
  });

  it('uses only paths and methods of the OpenAPI document, which carries the custom type', async () => {
    const doc = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    const used: [string, string][] = [
      ['post', '/v1/enrichment/jobs'],
      ['get', '/v1/enrichment/jobs/{id}'],
      ['delete', '/v1/enrichment/jobs/{id}'],
      ['post', '/v1/enrichment/jobs/{id}/retry'],
      ['get', '/v1/enrichment/jobs'],
      ['get', '/v1/enrichment/jobs/{id}/events'],
      ['get', '/v1/events'],
    ];
    for (const [method, path] of used) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.components.schemas.WordCountPayload).toBeDefined();
  });

  it('is importable as enrichd/client and enrichd/worker from the build', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e',
      "const c = await import('enrichd/client'); const w = await import('enrichd/worker'); console.log(typeof c.createClient, typeof w.defineJobType, typeof w.startEnrichd)"], { cwd: ROOT }).toString().trim();
    expect(out).toBe('function function function');
  });
});
