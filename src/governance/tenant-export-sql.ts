// What a tenant export holds: one query per file, run inside the tenant's transaction (row-level
// security binds), streamed out with COPY. JSONL files are one JSON object per row; the COPY
// uses CSV format with delimiter and quote characters that JSON text never holds raw (control
// characters are escaped in JSON), so each row comes out exactly as PostgreSQL wrote it.

/** One file of the archive. */
export interface ExportFile {
  name: string;
  /** the table it comes from (the manifest says) */
  table: string;
  format: 'jsonl' | 'csv';
  query: string;
}

const jsonl = (name: string, table: string, query: string): ExportFile => ({ name, table, format: 'jsonl', query });

export const TENANT_EXPORT_FILES: ExportFile[] = [
  jsonl('jobs.jsonl', 'enrichment_jobs', `
SELECT to_jsonb(j) - 'request_hash' - 'round_base' FROM enrichment_jobs j ORDER BY created_at, id`),
  jsonl('job_events.jsonl', 'enrichment_job_events', `
SELECT to_jsonb(e) FROM enrichment_job_events e ORDER BY id`),
  jsonl('lists.jsonl', 'lists', `
SELECT to_jsonb(l) FROM lists l ORDER BY created_at, id`),
  // Entries as GET /v1/lists/:id/entries answers them: data as uploaded, the latest run of each step.
  jsonl('entries.jsonl', 'list_entries', `
SELECT jsonb_build_object('id', e.id::text, 'listId', e.list_id, 'data', e.data, 'enrichment', coalesce(r.enrichment, '{}'::jsonb))
FROM list_entries e
LEFT JOIN LATERAL (
  SELECT enrichd_jsonb_merge(er.results ORDER BY er.updated_at, er.job_id) AS enrichment
  FROM entry_results er WHERE er.entry_id = e.id
) r ON true
WHERE e.list_id IN (SELECT id FROM lists)
ORDER BY e.list_id, e.id`),
  jsonl('entry_results.jsonl', 'entry_results', `
SELECT jsonb_build_object('entryId', r.entry_id::text, 'jobId', r.job_id, 'listId', r.list_id, 'results', r.results, 'outcomes', r.outcomes, 'errors', r.errors, 'updatedAt', r.updated_at)
FROM entry_results r WHERE r.job_id IN (SELECT id FROM enrichment_jobs) ORDER BY r.job_id, r.entry_id`),
  jsonl('plans.jsonl', 'enrichment_plans', `
SELECT to_jsonb(p) FROM enrichment_plans p ORDER BY created_at, id`),
  jsonl('exports.jsonl', 'exports', `
SELECT to_jsonb(x) FROM exports x ORDER BY created_at, id`),
  // Endpoints without their signing secrets; the tenant's default secret is not exported either.
  jsonl('webhook_endpoints.jsonl', 'webhook_endpoints', `
SELECT to_jsonb(w) - 'secret' FROM webhook_endpoints w ORDER BY created_at, id`),
  jsonl('webhook_deliveries.jsonl', 'webhook_deliveries', `
SELECT to_jsonb(d) || jsonb_build_object('attempts', coalesce((
  SELECT jsonb_agg(to_jsonb(a) - 'tenant_id' - 'delivery_id' ORDER BY a.id) FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id), '[]'::jsonb))
FROM webhook_deliveries d ORDER BY created_at, id`),
  jsonl('erasures.jsonl', 'privacy_erasures', `
SELECT to_jsonb(p) FROM privacy_erasures p ORDER BY created_at, id`),
  { name: 'usage.csv', table: 'provider_calls', format: 'csv', query: `
SELECT at, provider, endpoint, kind, outcome, credits, latency_ms, job_id, entry_key FROM provider_calls ORDER BY at, id` },
  { name: 'audit.csv', table: 'audit_log', format: 'csv', query: `
SELECT at, sub, action, resource, resource_id, status, request_id FROM audit_log ORDER BY at, id` },
];

/** The COPY statement that streams one file. */
export function copyStatement(file: ExportFile): string {
  return file.format === 'jsonl'
    ? `COPY (${file.query}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`
    : `COPY (${file.query}) TO STDOUT WITH (FORMAT csv, HEADER true)`;
}

export const SET_TENANT = "SELECT set_config('role', $1::text, true), set_config('app.tenant_id', $2::text, true)";

export const ENSURE_TENANT_EXPORT = `
INSERT INTO exports (id, tenant_id, list_id, kind, format) VALUES ($1::uuid, $2::uuid, NULL, 'tenant', 'tar.gz')
ON CONFLICT (id) DO NOTHING`;
