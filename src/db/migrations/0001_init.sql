-- Foundation: tenants, jobs, their events, workers, the lists and plans jobs refer to,
-- and the application role that every tenant-scoped transaction runs as.
-- The migrator sets enrichd.app_role before running this file.

DO $$
DECLARE
  app_role text := current_setting('enrichd.app_role');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', app_role);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another database's migration created it at the same moment
    END;
  END IF;
  -- The connecting role must be able to SET ROLE to it (a superuser can anyway).
  IF NOT pg_has_role(current_user, app_role, 'MEMBER') THEN
    EXECUTE format('GRANT %I TO %I', app_role, current_user);
  END IF;
END
$$;

CREATE TABLE tenants (
  id uuid PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lists (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  name text NOT NULL,
  entry_count integer NOT NULL DEFAULT 0,
  columns jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lists_tenant_created_idx ON lists (tenant_id, created_at DESC, id DESC);

CREATE TABLE enrichment_plans (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  name text NOT NULL,
  steps jsonb NOT NULL,
  error_threshold numeric NOT NULL DEFAULT 1 CHECK (error_threshold BETWEEN 0 AND 1),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrichment_plans_tenant_created_idx ON enrichment_plans (tenant_id, created_at DESC, id DESC);

CREATE TABLE enrichment_jobs (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  type text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'scheduled', 'running', 'retrying', 'completed', 'failed', 'cancelled')),
  priority smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
  payload jsonb NOT NULL DEFAULT '{}',
  tags text[] NOT NULL DEFAULT '{}',
  attempts integer NOT NULL DEFAULT 0,
  -- attempts already made when the current round began (a retry starts a new round)
  round_base integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 25),
  timeout_ms integer NOT NULL,
  worker_id text,
  progress_total integer NOT NULL DEFAULT 1,
  progress_processed integer NOT NULL DEFAULT 0,
  progress_succeeded integer NOT NULL DEFAULT 0,
  progress_failed integer NOT NULL DEFAULT 0,
  result jsonb,
  last_error jsonb,
  webhook_url text,
  run_at timestamptz,
  retry_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  attempt_started_at timestamptz,
  completed_at timestamptz,
  dispatched_at timestamptz,
  idempotency_key text,
  request_hash text
);
-- listing: a tenant's jobs, newest first, keyset on (created_at, id)
CREATE INDEX enrichment_jobs_tenant_created_idx ON enrichment_jobs (tenant_id, created_at DESC, id DESC);
-- relay: accepted but not yet handed to the queue
CREATE INDEX enrichment_jobs_undispatched_idx ON enrichment_jobs (created_at)
  WHERE dispatched_at IS NULL AND status IN ('pending', 'scheduled');
-- reconciler: everything not finished
CREATE INDEX enrichment_jobs_unfinished_idx ON enrichment_jobs (id)
  WHERE status IN ('pending', 'scheduled', 'running', 'retrying');
CREATE UNIQUE INDEX enrichment_jobs_idempotency_idx ON enrichment_jobs (tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

CREATE TABLE enrichment_job_events (
  id bigserial PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES enrichment_jobs (id) ON DELETE CASCADE,
  tenant_id uuid NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  from_status text,
  to_status text NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  worker_id text,
  message text
);
CREATE INDEX enrichment_job_events_job_idx ON enrichment_job_events (job_id, id);
CREATE INDEX enrichment_job_events_tenant_idx ON enrichment_job_events (tenant_id, id);

CREATE TABLE enrichment_workers (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
  in_flight integer NOT NULL DEFAULT 0,
  processed bigint NOT NULL DEFAULT 0,
  stopped_at timestamptz
);
CREATE INDEX enrichment_workers_heartbeat_idx ON enrichment_workers (last_heartbeat_at DESC);

-- Row-level security on every tenant table: a tenant-scoped transaction (role app_role,
-- app.tenant_id set) sees and writes only its own rows; without the setting, nothing.
DO $$
DECLARE
  app_role text := current_setting('enrichd.app_role');
  t text;
BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app_role);
  EXECUTE format('GRANT SELECT, INSERT ON tenants TO %I', app_role);
  FOREACH t IN ARRAY ARRAY['lists', 'enrichment_plans', 'enrichment_jobs', 'enrichment_job_events'] LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO %I', t, app_role);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
      'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)', t);
  END LOOP;
  EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE enrichment_job_events_id_seq TO %I', app_role);
  EXECUTE format('GRANT SELECT ON enrichment_workers TO %I', app_role);
END
$$;
