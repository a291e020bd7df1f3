-- Data governance (issue 8): a tenant's cleanup progress, tenant exports, erasures and the
-- "do not look up" marks of erased subjects.

-- tenant_cleanup keeps rows removed per table here, written in the same transaction as each
-- batch it deletes, so a cleanup resumed after a crash continues and still reports exact
-- totals. The rows stay with the cleanup job (its history) and go when the job is pruned.
CREATE TABLE tenant_cleanup_progress (
  job_id uuid NOT NULL REFERENCES enrichment_jobs (id) ON DELETE CASCADE,
  tenant_id uuid NOT NULL,
  table_name text NOT NULL,
  rows bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, table_name)
);

-- Exports of a whole tenant (tenant_export): no list, one tar.gz archive. `kind` says which;
-- list exports keep their shape. erased_at: an erasure deleted the file's parts (the record
-- stays, the file cannot be downloaded any more).
ALTER TABLE exports ALTER COLUMN list_id DROP NOT NULL;
ALTER TABLE exports ADD COLUMN kind text NOT NULL DEFAULT 'list' CHECK (kind IN ('list', 'tenant'));
ALTER TABLE exports ADD COLUMN erased_at timestamptz;
ALTER TABLE exports DROP CONSTRAINT exports_format_check;
ALTER TABLE exports ADD CONSTRAINT exports_format_check CHECK (format IN ('csv', 'jsonl', 'tar.gz'));
ALTER TABLE exports ADD CONSTRAINT exports_kind_list CHECK ((kind = 'list') = (list_id IS NOT NULL));

-- One erasure request (POST /v1/privacy/erasures). No personal data: what was asked for is
-- kept only as the kinds of identifier given; counts are rows removed or redacted per store.
CREATE TABLE privacy_erasures (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  status text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  identifiers text[] NOT NULL,
  counts jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
CREATE INDEX privacy_erasures_tenant_idx ON privacy_erasures (tenant_id, created_at DESC);

-- "Do not look up" marks: a keyed hash (HMAC-SHA256, src/governance/subject-hash.ts) of a
-- normalised identifier, never the identifier. `scope` is the tenant that erased the subject,
-- or 'global' for a subject a provider refused to process (Hunter's 451). Read by workers
-- before every provider call, as the owner role (like provider_cache).
CREATE TABLE privacy_marks (
  scope text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('email', 'phone', 'external_id', 'person')),
  hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, kind, hash)
);

-- The database's own half of the hashing key, made once on first use (src/governance/subject-hash.ts).
CREATE TABLE privacy_hash_key (
  id integer PRIMARY KEY CHECK (id = 1),
  key bytea NOT NULL
);

DO $$
DECLARE
  app_role text := current_setting('enrichd.app_role');
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenant_cleanup_progress', 'privacy_erasures'] LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO %I', t, app_role);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
      'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)', t);
  END LOOP;
END
$$;
