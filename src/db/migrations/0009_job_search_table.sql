-- The tag and free-text searches of the job listing move from enrichment_jobs' own GIN
-- indexes (0003) to a narrow side table written when a job is recorded and when its tags or
-- last error change.
--
-- Why: a job's status changes are never HOT updates (status is in the listing's btree and in
-- partial-index predicates), so each one wrote a fresh entry into every index of the row,
-- the two GIN indexes included: about fifty trigrams, a tenant entry and the tags, three or
-- four times over a job's life, though none of the searched fields had changed. Measured
-- with one connection running a job's life (insert, start, finish, each with its event):
-- PostgreSQL CPU 1.2-1.3 ms a job with the GIN indexes on enrichment_jobs, 0.85-1.0 ms with
-- this table; the GIN pending lists also no longer fill (and stall a commit to merge) at
-- the pace of status changes, only of submits.
--
-- The rows are kept by triggers, not by the statements that write jobs, so no path that
-- records a job or its error (the API, the chunk runner, the outside-runner endpoint, bulk
-- loads) can forget them: one statement-level trigger on insert (once per batch), and a
-- row trigger on update whose WHEN clause lets only a changed tag list or last error through
-- (evaluated in the executor, no function call for the rest).

CREATE TABLE enrichment_job_search (
  job_id uuid PRIMARY KEY REFERENCES enrichment_jobs (id) ON DELETE CASCADE,
  tenant_id uuid NOT NULL,
  -- the job's, which never changes: a search pages this table alone, then reads its page's jobs
  created_at timestamptz NOT NULL,
  tags text[] NOT NULL,
  -- enrichd_job_search_text(id, type, tags, last_error): id, type, tags and the last error's
  -- message, lower-cased, one per line
  search_text text NOT NULL
);

INSERT INTO enrichment_job_search (job_id, tenant_id, created_at, tags, search_text)
SELECT id, tenant_id, created_at, tags, enrichd_job_search_text(id, type, tags, last_error) FROM enrichment_jobs;

-- btree_gin puts the tenant beside the tags and trigrams (see 0003), so a search reads only
-- the tenant's matches.
CREATE INDEX enrichment_job_search_tags_idx ON enrichment_job_search USING gin (tenant_id, tags);
CREATE INDEX enrichment_job_search_text_idx ON enrichment_job_search USING gin (tenant_id, search_text gin_trgm_ops);
-- A search matching a good share of the tenant's jobs is cheaper read in page order, testing
-- each row, than gathered whole from a GIN index and sorted; the planner picks by the
-- column statistics of search_text and tags.
CREATE INDEX enrichment_job_search_tenant_created_idx ON enrichment_job_search (tenant_id, created_at DESC, job_id DESC);

DROP INDEX enrichment_jobs_tags_idx;
DROP INDEX enrichment_jobs_search_idx;

-- SECURITY DEFINER (the migrating role): jobs are written both inside withTenant and by the
-- system path; the tenant comes from each job row, never from an argument.
CREATE FUNCTION enrichd_job_search_insert() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  INSERT INTO public.enrichment_job_search (job_id, tenant_id, created_at, tags, search_text)
  SELECT n.id, n.tenant_id, n.created_at, n.tags, public.enrichd_job_search_text(n.id, n.type, n.tags, n.last_error)
  FROM new_jobs n;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER enrichment_jobs_search_insert
  AFTER INSERT ON enrichment_jobs
  REFERENCING NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION enrichd_job_search_insert();

CREATE FUNCTION enrichd_job_search_update() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  UPDATE public.enrichment_job_search
  SET tags = NEW.tags, search_text = public.enrichd_job_search_text(NEW.id, NEW.type, NEW.tags, NEW.last_error)
  WHERE job_id = NEW.id;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER enrichment_jobs_search_update
  AFTER UPDATE OF tags, last_error ON enrichment_jobs
  FOR EACH ROW
  WHEN (OLD.tags IS DISTINCT FROM NEW.tags OR OLD.last_error IS DISTINCT FROM NEW.last_error)
  EXECUTE FUNCTION enrichd_job_search_update();

-- The listing (0003's enrichd_list_jobs, same arguments and answers), two ways:
--   - a tag or text search with no status or type filter pages the search table alone (in
--     order through its (tenant_id, created_at, job_id) index when matches are common, from
--     a GIN index and sorted when they are rare) and reads only the page's jobs by key;
--   - otherwise the jobs are read as in 0003 (an index in order, or the plain walk), the tag
--     tested on the row, the text through a join to the search row. Each condition is said
--     once, where its column statistics are, so the planner's estimates hold: saying one
--     twice (on the job and on the search row) made it count the same selectivity twice,
--     expect fewer matches than a page, and sort every candidate instead of walking in order.
-- No parallel workers: a page is a few milliseconds of work, and under many concurrent
-- clients workers only add start-up cost and compete for the same cores.
CREATE OR REPLACE FUNCTION enrichd_list_jobs(
  statuses text[], job_type text, tag text, pattern text,
  created_after timestamptz, created_before timestamptz,
  after_micros bigint, after_id uuid, lim integer
) RETURNS SETOF enrichment_jobs
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET max_parallel_workers_per_gather = 0
AS $fn$
DECLARE
  tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
  keyset constant text := ' < (''epoch''::timestamptz + $8 * interval ''1 microsecond'', $9)';
  query text;
BEGIN
  IF tenant IS NULL THEN
    RETURN; -- not inside withTenant: nothing, as the policy would answer
  END IF;
  IF (tag IS NOT NULL OR pattern IS NOT NULL) AND coalesce(cardinality(statuses), 0) = 0 AND job_type IS NULL THEN
    query := 'SELECT s.job_id, s.created_at FROM public.enrichment_job_search s WHERE s.tenant_id = $1';
    IF tag IS NOT NULL THEN query := query || ' AND s.tags @> ARRAY[$4]'; END IF;
    IF pattern IS NOT NULL THEN query := query || ' AND s.search_text LIKE $5'; END IF;
    IF created_after IS NOT NULL THEN query := query || ' AND s.created_at >= $6'; END IF;
    IF created_before IS NOT NULL THEN query := query || ' AND s.created_at < $7'; END IF;
    IF after_micros IS NOT NULL THEN query := query || ' AND (s.created_at, s.job_id)' || keyset; END IF;
    query := 'SELECT j.* FROM (' || query || ' ORDER BY s.created_at DESC, s.job_id DESC LIMIT $10) k'
      || ' JOIN public.enrichment_jobs j ON j.id = k.job_id ORDER BY k.created_at DESC, k.job_id DESC';
  ELSE
    query := 'SELECT j.* FROM public.enrichment_jobs j';
    IF pattern IS NOT NULL THEN
      query := query || ' JOIN public.enrichment_job_search s ON s.job_id = j.id AND s.tenant_id = $1 AND s.search_text LIKE $5';
    END IF;
    query := query || ' WHERE j.tenant_id = $1';
    IF cardinality(statuses) = 1 THEN
      query := query || ' AND j.status = $2[1]';
    ELSIF cardinality(statuses) > 1 THEN
      query := query || ' AND j.status = ANY($2)';
    END IF;
    IF job_type IS NOT NULL THEN query := query || ' AND j.type = $3'; END IF;
    IF tag IS NOT NULL THEN query := query || ' AND j.tags @> ARRAY[$4]'; END IF;
    IF created_after IS NOT NULL THEN query := query || ' AND j.created_at >= $6'; END IF;
    IF created_before IS NOT NULL THEN query := query || ' AND j.created_at < $7'; END IF;
    IF after_micros IS NOT NULL THEN query := query || ' AND (j.created_at, j.id)' || keyset; END IF;
    query := query || ' ORDER BY j.created_at DESC, j.id DESC LIMIT $10';
  END IF;
  RETURN QUERY EXECUTE query
    USING tenant, statuses, job_type, tag, pattern, created_after, created_before, after_micros, after_id, lim;
END
$fn$;

-- A tenant table like the others: the application role reads it only through its policy.
DO $$
DECLARE
  app_role text := current_setting('enrichd.app_role');
BEGIN
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON enrichment_job_search TO %I', app_role);
  ALTER TABLE enrichment_job_search ENABLE ROW LEVEL SECURITY;
  ALTER TABLE enrichment_job_search FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant_isolation ON enrichment_job_search
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
END
$$;
