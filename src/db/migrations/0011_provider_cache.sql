-- Provider lookups: a cache of answers (so no paid lookup is made twice) and a record of every
-- attempt (so usage and credits are counted as each provider bills).

-- provider_cache is shared by design: with PROVIDER_CACHE_SCOPE=global every tenant reads the
-- same rows, so its rows are keyed by `scope` (the paying tenant's id, or 'global') rather than
-- bound to one tenant by row-level security. Only workers (as the owner) and the provider
-- webhook receiver (which learns the tenant from the row) touch it; no API read serves it.
-- A row is one lookup's state: `pending` while one caller asks (its `claim` token; others wait),
-- `queued` while the provider's answer is due by webhook (`request_id`), then `hit` or `miss`
-- until `expires_at`. Throttles and errors are never kept: the claim row is deleted.
CREATE TABLE provider_cache (
  scope text NOT NULL,
  provider text NOT NULL,
  endpoint text NOT NULL,
  input_key text NOT NULL,
  want text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'queued', 'hit', 'miss')),
  value text,
  details jsonb,
  claim text,
  request_id text,
  -- who asked (for the credits of an answer that comes by webhook)
  paid_by uuid,
  job_id uuid,
  entry_key text,
  expires_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, provider, endpoint, input_key)
);
CREATE UNIQUE INDEX provider_cache_request ON provider_cache (provider, request_id) WHERE request_id IS NOT NULL;

-- One row per provider call made (kind 'call'), per answer served from the cache (kind
-- 'cache_hit', at most once per job, entry and endpoint), and per answer delivered by webhook
-- (kind 'webhook': the credits of a queued lookup, billed when answered).
CREATE TABLE provider_calls (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  job_id uuid,
  entry_key text,
  provider text NOT NULL,
  endpoint text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('call', 'cache_hit', 'webhook')),
  outcome text NOT NULL,
  credits numeric(14, 4) NOT NULL DEFAULT 0,
  latency_ms integer NOT NULL DEFAULT 0,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_calls_tenant_at ON provider_calls (tenant_id, at);
CREATE INDEX provider_calls_job ON provider_calls (job_id) WHERE job_id IS NOT NULL;
CREATE UNIQUE INDEX provider_calls_cache_hit_once ON provider_calls (job_id, entry_key, provider, endpoint)
  WHERE kind = 'cache_hit' AND job_id IS NOT NULL AND entry_key IS NOT NULL;

DO $$
DECLARE
  app_role text := current_setting('enrichd.app_role');
BEGIN
  EXECUTE format('GRANT SELECT, INSERT ON provider_calls TO %I', app_role);
  ALTER TABLE provider_calls ENABLE ROW LEVEL SECURITY;
  ALTER TABLE provider_calls FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON provider_calls
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
END
$$;
