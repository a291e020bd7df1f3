// The statements of an erasure. Candidates are found in SQL by pattern ($2 lower-cased email,
// $3 phone digits, $4 JSON-quoted external id: LIKE patterns, null when not asked) and confirmed
// in code, which decides what is removed and what is redacted.

/** A condition on a text expression that keeps the rows that may mention the subject. */
export const candidate = (text: string) => `(
  ($2::text IS NOT NULL AND lower(${text}) LIKE $2::text)
  OR ($3::text IS NOT NULL AND regexp_replace(${text}, '[^0-9]', '', 'g') LIKE $3::text)
  OR ($4::text IS NOT NULL AND ${text} LIKE $4::text))`;

export const TENANT_LISTS = 'SELECT id FROM lists WHERE tenant_id = $1::uuid';

export const LIST_CANDIDATES = `
SELECT id::text AS id, data FROM list_entries
WHERE list_id = $5::uuid AND tenant_id = $1::uuid AND ${candidate('data::text')}`;

export const DELETE_ENTRY_RESULTS = 'DELETE FROM entry_results WHERE entry_id = ANY($1::bigint[]) AND tenant_id = $2::uuid';
export const DELETE_ENTRIES = 'DELETE FROM list_entries WHERE id = ANY($1::bigint[]) AND tenant_id = $2::uuid';
export const SHRINK_LIST = 'UPDATE lists SET entry_count = greatest(0, entry_count - $2::int) WHERE id = $1::uuid';
export const REDACT_ENTRIES = `
UPDATE list_entries e SET data = r.data
FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, data jsonb)
WHERE e.id = r.id AND e.tenant_id = $2::uuid`;

export const RESULT_CANDIDATES = `
SELECT r.entry_id::text AS entry_id, r.job_id::text AS job_id, r.results, r.errors
FROM enrichment_jobs j JOIN entry_results r ON r.job_id = j.id
WHERE j.tenant_id = $1::uuid AND (${candidate('r.results::text')} OR ${candidate('coalesce(r.errors::text, \'\')')})`;
export const REDACT_RESULTS = `
UPDATE entry_results e SET results = r.results, errors = r.errors
FROM json_to_recordset($1::json) AS r(entry_id bigint, job_id uuid, results json, errors json)
WHERE e.entry_id = r.entry_id AND e.job_id = r.job_id AND e.tenant_id = $2::uuid`;

export const JOB_CANDIDATES = `
SELECT id, payload, result, last_error FROM enrichment_jobs
WHERE tenant_id = $1::uuid
  AND (${candidate('payload::text')} OR ${candidate('coalesce(result::text, \'\')')} OR ${candidate('coalesce(last_error::text, \'\')')})`;
export const REDACT_JOB = `
UPDATE enrichment_jobs SET payload = $2::jsonb, result = $3::jsonb, last_error = $4::jsonb WHERE id = $1::uuid AND tenant_id = $5::uuid`;

export const EVENT_CANDIDATES = `
SELECT id::text AS id, message FROM enrichment_job_events
WHERE tenant_id = $1::uuid AND message IS NOT NULL AND ${candidate('to_jsonb(message)::text')}`;
export const REDACT_EVENT = 'UPDATE enrichment_job_events SET message = $2::text WHERE id = $1::bigint';

export const DELIVERY_CANDIDATES = `
SELECT id, payload, last_error FROM webhook_deliveries
WHERE tenant_id = $1::uuid AND (${candidate('payload::text')} OR ${candidate('to_jsonb(coalesce(last_error, \'\'))::text')})`;
export const REDACT_DELIVERY = 'UPDATE webhook_deliveries SET payload = $2::jsonb, last_error = $3::text WHERE id = $1::uuid';
export const REDACT_DELIVERY_ATTEMPTS = `
UPDATE webhook_delivery_attempts SET error = '[erased]'
WHERE tenant_id = $1::uuid AND error IS NOT NULL AND ${candidate('to_jsonb(error)::text')}`;

// A cache is only a copy: entries that may be about the subject are dropped, in the tenant's
// scope and the global one (answers about the person, whoever paid for them).
export const DELETE_CACHE = `
DELETE FROM provider_cache
WHERE scope = ANY (ARRAY[$1::text, 'global'])
  AND (${candidate('input_key')} OR ${candidate('to_jsonb(coalesce(value, \'\'))::text')} OR ${candidate('coalesce(details::text, \'\')')})`;

// Export files derived from the lists that held the subject, and every tenant archive.
export const ERASE_EXPORTS = `
UPDATE exports SET erased_at = now()
WHERE tenant_id = $1::uuid AND erased_at IS NULL AND (list_id = ANY($2::uuid[]) OR kind = 'tenant')
RETURNING id`;
export const DELETE_EXPORT_PARTS = 'DELETE FROM export_parts WHERE export_id = ANY($1::uuid[])';

export const INSERT_ERASURE = `
INSERT INTO privacy_erasures (id, tenant_id, status, identifiers) VALUES ($1::uuid, $2::uuid, 'running', $3::text[])`;
export const FINISH_ERASURE = `
UPDATE privacy_erasures SET status = $2::text, counts = $3::jsonb, completed_at = now() WHERE id = $1::uuid`;
export const GET_ERASURE = 'SELECT id, status, counts, identifiers, created_at, completed_at FROM privacy_erasures WHERE id = $1::uuid';
