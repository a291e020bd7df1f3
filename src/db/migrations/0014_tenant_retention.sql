-- A tenant's own retention (PUT /v1/retention): days its finished jobs, deliveries and exports
-- are kept when shorter than the deployment's RETENTION_* values. NULL: the deployment's value.
-- The sweep (src/retention/sql.ts) reads the smaller of the two, so an operator who lowers a
-- RETENTION_* value later is never outlived by an older, longer tenant value. The bounds here
-- are the deployment's own (1..3650); the API refuses more than the deployment's value.
CREATE TABLE tenant_retention (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  jobs_days integer CHECK (jobs_days BETWEEN 1 AND 3650),
  deliveries_days integer CHECK (deliveries_days BETWEEN 1 AND 3650),
  exports_days integer CHECK (exports_days BETWEEN 1 AND 3650),
  updated_at timestamptz NOT NULL DEFAULT now()
);

DO $$
DECLARE
  app_role text := current_setting('enrichd.app_role');
BEGIN
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_retention TO %I', app_role);
  ALTER TABLE tenant_retention ENABLE ROW LEVEL SECURITY;
  ALTER TABLE tenant_retention FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON tenant_retention
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
END
$$;
