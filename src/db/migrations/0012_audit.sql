-- The audit trail (GET /v1/audit): one row per state-changing API call of a tenant token.
--
-- What a row holds is ids and codes only: the token's sub, the action (`job.cancel`), the
-- resource type and its id, the answer's status code, the request id and the time. Never a
-- body, a query string, a token or a secret, so the trail holds no personal data.
--
-- Rows are written by the API in batches, off the request path (src/audit/writer.ts), as the
-- connecting role across tenants; the application role only reads them, through its policy,
-- so a tenant cannot write or change its own trail. No foreign key to tenants: the trail
-- outlives whatever a tenant's cleanup removes. Kept RETENTION_AUDIT_DAYS (the leader's
-- retention sweep, src/retention/sweep.ts, deletes older rows per tenant through the index).
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id uuid NOT NULL,
  at timestamptz NOT NULL,
  sub text,
  action text NOT NULL,
  resource text NOT NULL,
  resource_id text,
  status smallint NOT NULL,
  request_id text NOT NULL
);
-- the listing (newest first, keyset on (at, id)) and the retention sweep (per tenant, at < cutoff)
CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant_id, at DESC, id DESC);

DO $$
DECLARE
  app_role text := current_setting('enrichd.app_role');
BEGIN
  EXECUTE format('GRANT SELECT ON audit_log TO %I', app_role);
  ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
  ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON audit_log
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
END
$$;
