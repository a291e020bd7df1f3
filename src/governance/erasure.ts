// Erasure of one person from a tenant's stores: entries about them are removed with their
// results; every other mention (a candidate contact, a step result, a job's payload or result,
// an event message, a webhook delivery's body, the live event stream) is redacted; cache
// entries and export files that may hold them are deleted; and the subject is marked so no
// provider is asked about them again. Runs as the system, tenant by tenant condition.
import type { Redis } from 'ioredis';
import type { Pool } from '../db/pool.js';
import { eventStreamKey } from '../events/stream.js';
import * as sql from './erasure-sql.js';
import { type Subject, candidatePatterns, isSubjectEntry, redactJson, redactText, textMatches } from './subject.js';
import type { SubjectMarks } from './subject-marks.js';

export interface ErasureRequest {
  pool: Pool;
  redis: Redis;
  prefix: string;
  marks: SubjectMarks;
  tenantId: string;
  subject: Subject;
}

/** Rows (or stream entries) removed or redacted, per store. No personal data. */
export type ErasureCounts = Record<string, number>;

const UPDATE_BATCH = 500;

/** Runs the erasure; returns the counts. */
export async function runErasure(req: ErasureRequest): Promise<ErasureCounts> {
  const { pool, tenantId, subject } = req;
  const p = candidatePatterns(subject);
  const base = [tenantId, p.email, p.phone, p.externalId];
  const counts: ErasureCounts = {};
  const add = (k: string, n: number) => {
    counts[k] = (counts[k] ?? 0) + n;
  };

  // Marked first: from now on no lookup of the subject starts, while the rest is cleaned.
  add('marks', await req.marks.mark(tenantId, { email: subject.email, phone: subject.phone?.e164, externalId: subject.externalId }));

  const touchedLists: string[] = [];
  const { rows: lists } = await pool.query<{ id: string }>(sql.TENANT_LISTS, [tenantId]);
  for (const list of lists) {
    const { rows } = await pool.query<{ id: string; data: Record<string, unknown> }>(sql.LIST_CANDIDATES, [...base, list.id]);
    const doomed = rows.filter((r) => isSubjectEntry(subject, r.data)).map((r) => r.id);
    const redacted = rows.flatMap((r) => {
      if (doomed.includes(r.id)) return [];
      const out = redactJson(subject, r.data);
      return out.changed ? [{ id: r.id, data: out.value }] : [];
    });
    if (doomed.length === 0 && redacted.length === 0) continue;
    touchedLists.push(list.id);
    for (let i = 0; i < doomed.length; i += UPDATE_BATCH) {
      const ids = doomed.slice(i, i + UPDATE_BATCH);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        add('entry_results_deleted', (await client.query(sql.DELETE_ENTRY_RESULTS, [ids, tenantId])).rowCount ?? 0);
        const n = (await client.query(sql.DELETE_ENTRIES, [ids, tenantId])).rowCount ?? 0;
        add('list_entries_deleted', n);
        await client.query(sql.SHRINK_LIST, [list.id, n]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    }
    for (let i = 0; i < redacted.length; i += UPDATE_BATCH) {
      const { rowCount } = await pool.query(sql.REDACT_ENTRIES, [JSON.stringify(redacted.slice(i, i + UPDATE_BATCH)), tenantId]);
      add('list_entries_redacted', rowCount ?? 0);
    }
  }

  // Step results that mention the subject (a provider's answer, a validated contact email).
  const { rows: results } = await pool.query<{ entry_id: string; job_id: string; results: unknown; errors: unknown }>(sql.RESULT_CANDIDATES, base);
  const redactedResults = results.flatMap((r) => {
    const a = redactJson(subject, r.results);
    const b = redactJson(subject, r.errors);
    return a.changed || b.changed ? [{ entry_id: r.entry_id, job_id: r.job_id, results: a.value, errors: b.value }] : [];
  });
  for (let i = 0; i < redactedResults.length; i += UPDATE_BATCH) {
    const { rowCount } = await pool.query(sql.REDACT_RESULTS, [JSON.stringify(redactedResults.slice(i, i + UPDATE_BATCH)), tenantId]);
    add('entry_results_redacted', rowCount ?? 0);
  }

  // Jobs carrying the person (a lead job's payload, its result, an error message).
  const { rows: jobs } = await pool.query<{ id: string; payload: unknown; result: unknown; last_error: unknown }>(sql.JOB_CANDIDATES, base);
  for (const j of jobs) {
    const [a, b, c] = [redactJson(subject, j.payload), redactJson(subject, j.result), redactJson(subject, j.last_error)];
    if (!a.changed && !b.changed && !c.changed) continue;
    const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
    await pool.query(sql.REDACT_JOB, [j.id, json(a.value), json(b.value), json(c.value), tenantId]);
    add('jobs_redacted', 1);
  }

  const { rows: events } = await pool.query<{ id: string; message: string }>(sql.EVENT_CANDIDATES, base);
  for (const e of events) {
    if (!textMatches(subject, e.message)) continue;
    await pool.query(sql.REDACT_EVENT, [e.id, redactText(subject, e.message)]);
    add('job_events_redacted', 1);
  }

  const { rows: deliveries } = await pool.query<{ id: string; payload: unknown; last_error: string | null }>(sql.DELIVERY_CANDIDATES, base);
  for (const d of deliveries) {
    const body = redactJson(subject, d.payload);
    const error = d.last_error === null ? null : redactText(subject, d.last_error);
    if (!body.changed && error === d.last_error) continue;
    await pool.query(sql.REDACT_DELIVERY, [d.id, JSON.stringify(body.value), error]);
    add('webhook_deliveries_redacted', 1);
  }
  add('webhook_delivery_attempts_redacted', (await pool.query(sql.REDACT_DELIVERY_ATTEMPTS, base)).rowCount ?? 0);

  add('provider_cache_deleted', (await pool.query(sql.DELETE_CACHE, base)).rowCount ?? 0);

  // Files are not rewritten: a list's export that may hold the person, and every tenant archive, is deleted.
  const found = Object.entries(counts).some(([k, n]) => k !== 'marks' && n > 0);
  if (found) {
    const { rows: erased } = await pool.query<{ id: string }>(sql.ERASE_EXPORTS, [tenantId, touchedLists]);
    if (erased.length > 0) await pool.query(sql.DELETE_EXPORT_PARTS, [erased.map((e) => e.id)]);
    add('export_files_deleted', erased.length);
  }

  add('event_stream_entries_deleted', await scrubEventStream(req));
  return counts;
}

/** Deletes the tenant's live events whose job mentions the subject (the stream is short: minutes of events). */
async function scrubEventStream(req: ErasureRequest): Promise<number> {
  const key = eventStreamKey(req.prefix, req.tenantId);
  const entries = (await req.redis.xrange(key, '-', '+')) as [string, string[]][];
  const doomed = entries.filter(([, fields]) => fields.some((f) => redactJson(req.subject, safeParse(f)).changed || textMatches(req.subject, f))).map(([id]) => id);
  let deleted = 0;
  for (let i = 0; i < doomed.length; i += 1000) deleted += await req.redis.xdel(key, ...doomed.slice(i, i + 1000));
  return deleted;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
