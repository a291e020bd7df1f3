-- Outgoing webhooks: a tenant's endpoints, its default signing secret (for jobs' own
-- webhookUrl), and durable deliveries with every attempt recorded.
--
-- Deliveries are created by a statement-level trigger on enrichment_job_events, so a delivery
-- commits with the transition that caused it (nothing is lost between the two) and no code
-- path that writes events needs to know about webhooks. The trigger runs once per statement,
-- not per row: a batch of transitions pays one guard, two EXISTS probes that stop at the
-- first hit, and a job without webhook_url in a tenant without endpoints pays nothing more.

CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  url text NOT NULL,
  -- whsec_ + base64 of 24+ random bytes; shown to the client once, at creation
  secret text NOT NULL,
  events text[] NOT NULL DEFAULT ARRAY['job.started', 'job.progress', 'job.completed', 'job.failed', 'job.cancelled', 'job.retrying'],
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- a deleted endpoint stays for its deliveries' history, disabled
  deleted_at timestamptz
);
-- the trigger's guard and the listing: a tenant's live endpoints
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, created_at DESC, id DESC)
  WHERE deleted_at IS NULL;

-- The tenant's default secret, signing deliveries to jobs' own webhookUrl; made on first use.
-- After a rotation the previous secret signs too until previous_expires_at.
CREATE TABLE tenant_webhook_secrets (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
  secret text NOT NULL,
  previous_secret text,
  previous_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  job_id uuid NOT NULL REFERENCES enrichment_jobs (id) ON DELETE CASCADE,
  -- null: the job's own webhookUrl, signed with the tenant's default secret
  endpoint_id uuid REFERENCES webhook_endpoints (id),
  url text NOT NULL,
  event_type text NOT NULL,
  -- the job row as it was when the event happened (the body is built from it at each send)
  payload jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  delivered_at timestamptz
);
-- the delivery loop: due pending deliveries, oldest due first, across tenants
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- listing: a tenant's deliveries newest first, and a job's
CREATE INDEX webhook_deliveries_tenant_idx ON webhook_deliveries (tenant_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_job_idx ON webhook_deliveries (job_id, created_at DESC, id DESC);

CREATE TABLE webhook_delivery_attempts (
  id bigserial PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  tenant_id uuid NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  status_code integer,
  error text,
  duration_ms integer NOT NULL
);
CREATE INDEX webhook_delivery_attempts_delivery_idx ON webhook_delivery_attempts (delivery_id, id);

-- Which event a new status announces (as src/events/stream.ts maps them); job.created and the
-- hand-back to pending are not delivered.
CREATE FUNCTION enrichd_webhook_event_type(to_status text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$SELECT CASE to_status WHEN 'running' THEN 'job.started' WHEN 'completed' THEN 'job.completed'
    WHEN 'failed' THEN 'job.failed' WHEN 'cancelled' THEN 'job.cancelled' WHEN 'retrying' THEN 'job.retrying' END$$;

-- SECURITY DEFINER (the migrating role): events are written both inside withTenant (row-level
-- security binds) and by the system path, and the deliveries must be created in both; the
-- tenant comes from each event row, never from an argument.
CREATE FUNCTION enrichd_webhook_deliveries_from_events() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  -- The guard: most batches have no job with a webhookUrl and no tenant with an endpoint.
  IF NOT EXISTS (
       SELECT 1 FROM new_events e JOIN public.enrichment_jobs j ON j.id = e.job_id
       WHERE j.webhook_url IS NOT NULL AND e.to_status IN ('completed', 'failed', 'cancelled'))
     AND NOT EXISTS (
       SELECT 1 FROM public.webhook_endpoints w
       WHERE w.deleted_at IS NULL AND w.enabled AND w.tenant_id IN (SELECT e.tenant_id FROM new_events e))
  THEN
    RETURN NULL;
  END IF;

  -- The job's own webhookUrl: its finishing events only.
  INSERT INTO public.webhook_deliveries (tenant_id, job_id, endpoint_id, url, event_type, payload, created_at)
  SELECT j.tenant_id, j.id, NULL, j.webhook_url, public.enrichd_webhook_event_type(e.to_status), to_jsonb(j), e.at
  FROM new_events e JOIN public.enrichment_jobs j ON j.id = e.job_id
  WHERE j.webhook_url IS NOT NULL AND e.to_status IN ('completed', 'failed', 'cancelled')
  ORDER BY e.id;

  -- The tenant's enabled endpoints subscribed to the event's type.
  INSERT INTO public.webhook_deliveries (tenant_id, job_id, endpoint_id, url, event_type, payload, created_at)
  SELECT j.tenant_id, j.id, w.id, w.url, t.event_type, to_jsonb(j), e.at
  FROM new_events e
  CROSS JOIN LATERAL (SELECT public.enrichd_webhook_event_type(e.to_status) AS event_type) t
  JOIN public.webhook_endpoints w
    ON w.tenant_id = e.tenant_id AND w.deleted_at IS NULL AND w.enabled AND t.event_type = ANY (w.events)
  JOIN public.enrichment_jobs j ON j.id = e.job_id
  WHERE t.event_type IS NOT NULL
  ORDER BY e.id, w.id;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER enrichment_job_events_webhooks
  AFTER INSERT ON enrichment_job_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION enrichd_webhook_deliveries_from_events();

-- job.progress has no event row: the chunk runner and the outside-runner endpoint call this, at
-- most once a second per job. Only endpoints that ask for job.progress get it (never a job's
-- own webhookUrl). Same tenant rule as above: the job row says whose it is.
CREATE FUNCTION enrichd_webhook_progress(job uuid) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  n integer;
BEGIN
  INSERT INTO public.webhook_deliveries (tenant_id, job_id, endpoint_id, url, event_type, payload)
  SELECT j.tenant_id, j.id, w.id, w.url, 'job.progress', to_jsonb(j)
  FROM public.enrichment_jobs j
  JOIN public.webhook_endpoints w
    ON w.tenant_id = j.tenant_id AND w.deleted_at IS NULL AND w.enabled AND 'job.progress' = ANY (w.events)
  WHERE j.id = job
    -- inside withTenant, only the current tenant's job
    AND (NULLIF(current_setting('app.tenant_id', true), '') IS NULL
         OR j.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$fn$;

DO $$
DECLARE
  app_role text := current_setting('enrichd.app_role');
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['webhook_endpoints', 'tenant_webhook_secrets', 'webhook_deliveries', 'webhook_delivery_attempts'] LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO %I', t, app_role);
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
      'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)', t);
  END LOOP;
  EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE webhook_delivery_attempts_id_seq TO %I', app_role);
  REVOKE ALL ON FUNCTION enrichd_webhook_progress(uuid) FROM PUBLIC;
  EXECUTE format('GRANT EXECUTE ON FUNCTION enrichd_webhook_progress(uuid) TO %I', app_role);
END
$$;
