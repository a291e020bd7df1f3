-- Job listing (GET /v1/enrichment/jobs): filters by status, type, tag and time, and free
-- text (q) over id, type, tags and the last error's message, newest first, fast at a
-- million jobs. The migrator connects as a superuser, which CREATE EXTENSION needs.
--
-- Every index here is paid for by every submit (one more entry per index per insert) and
-- by every status change that is not HOT (status is indexed, so a transition writes new
-- entries in each index). So only what the filters need, and nothing for what another
-- index already serves:
--   - (tenant_id, created_at DESC, id DESC) exists since 0001: no filter, a time range, and
--     the fallback walk for filters common enough that reading in order and skipping the
--     misses is cheapest;
--   - status and type each get (tenant_id, <col>, created_at DESC, id DESC): an equality
--     filter then reads its rows already in page order, and the keyset cursor is a range
--     condition in the same index, so the tenth page costs what the first does;
--   - tag and q are containment searches that no btree serves: one GIN each. Both GIN
--     indexes keep fastupdate (the default): a submit appends to the pending list instead
--     of updating posting trees, and the list is merged in bulk.
-- No index on a status+type pair: with both filters one of the two indexes above reads in
-- order and the other condition is a cheap filter on rows the page needed anyway.
--
-- Row-level security and these indexes: under a policy, PostgreSQL uses a condition of the
-- query as an index condition only if its operator is LEAKPROOF (it could otherwise see
-- other tenants' rows before the policy removed them). Equality and range operators on
-- text, uuid and timestamptz are; LIKE and array containment (@>) are not, so under the
-- application role the tag and text searches could only filter a walk over all of the
-- tenant's jobs (measured at 1,000,000 jobs: 400+ ms for a search of the largest tenant,
-- against 1-8 ms with the index). Marking the built-in operators LEAKPROOF would change
-- them for the whole database and is not true of LIKE in general (its pattern argument can
-- raise an error). So the listing runs as enrichd_list_jobs below: SECURITY DEFINER (the
-- migrating role, a superuser, which row-level security does not bind), with the tenant
-- taken from app.tenant_id, which only withTenant sets, never from an argument. Were the
-- owner not a superuser, the policy would still bind inside (FORCE): same answers, slower.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- btree_gin lets one GIN index hold the tenant next to the trigrams, so a search reads only
-- the tenant's matches instead of every tenant's and throwing most away.
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE INDEX enrichment_jobs_tenant_status_idx ON enrichment_jobs (tenant_id, status, created_at DESC, id DESC);
CREATE INDEX enrichment_jobs_tenant_type_idx ON enrichment_jobs (tenant_id, type, created_at DESC, id DESC);
CREATE INDEX enrichment_jobs_tags_idx ON enrichment_jobs USING gin (tenant_id, tags);

-- The text q searches: id, type, tags and the last error's message, lower-cased, one per
-- line (a search for a plain term never spans two fields). An index expression must be
-- IMMUTABLE and array_to_string is only STABLE (element output could depend on settings;
-- for text[] it does not), so the expression lives in a function declared IMMUTABLE. The
-- query calls the same function, which is how the planner matches it to the index.
-- Indexed, not stored as a column: a stored column would cost ~100 bytes a row and a table
-- rewrite here, and measured end to end it gained nothing (the API's CPU, not this walk,
-- bounds a page; see bench/job-listing.ts).
CREATE FUNCTION enrichd_job_search_text(id uuid, type text, tags text[], last_error jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$SELECT lower(id::text || E'\n' || type || E'\n' || array_to_string(tags, E'\n') || E'\n' || coalesce(last_error ->> 'message', ''))$$;

CREATE INDEX enrichment_jobs_search_idx ON enrichment_jobs
  USING gin (tenant_id, enrichd_job_search_text(id, type, tags, last_error) gin_trgm_ops);

-- One page of the current tenant's jobs, newest first (created_at DESC, id DESC), after the
-- keyset position (after_micros: created_at in microseconds since the epoch, after_id), at
-- most lim rows. Each filter is added only when given, so every call is planned with its
-- own conditions and values (EXECUTE plans afresh each time) and the planner picks the
-- index that fits: status or type in order, the tags or search GIN, or the plain walk.
-- A single status is written as equality: `status = ANY(...)` would stop the btree from
-- returning rows in order (PostgreSQL before 17). `pattern` is a LIKE pattern over
-- enrichd_job_search_text, already lower-cased and escaped by the caller.
CREATE FUNCTION enrichd_list_jobs(
  statuses text[], job_type text, tag text, pattern text,
  created_after timestamptz, created_before timestamptz,
  after_micros bigint, after_id uuid, lim integer
) RETURNS SETOF enrichment_jobs
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  tenant uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
  query text := 'SELECT j.* FROM public.enrichment_jobs j WHERE j.tenant_id = $1';
BEGIN
  IF tenant IS NULL THEN
    RETURN; -- not inside withTenant: nothing, as the policy would answer
  END IF;
  IF cardinality(statuses) = 1 THEN
    query := query || ' AND j.status = $2[1]';
  ELSIF cardinality(statuses) > 1 THEN
    query := query || ' AND j.status = ANY($2)';
  END IF;
  IF job_type IS NOT NULL THEN query := query || ' AND j.type = $3'; END IF;
  IF tag IS NOT NULL THEN query := query || ' AND j.tags @> ARRAY[$4]'; END IF;
  IF pattern IS NOT NULL THEN
    query := query || ' AND public.enrichd_job_search_text(j.id, j.type, j.tags, j.last_error) LIKE $5';
  END IF;
  IF created_after IS NOT NULL THEN query := query || ' AND j.created_at >= $6'; END IF;
  IF created_before IS NOT NULL THEN query := query || ' AND j.created_at < $7'; END IF;
  IF after_micros IS NOT NULL THEN
    query := query || ' AND (j.created_at, j.id) < (''epoch''::timestamptz + $8 * interval ''1 microsecond'', $9)';
  END IF;
  query := query || ' ORDER BY j.created_at DESC, j.id DESC LIMIT $10';
  RETURN QUERY EXECUTE query
    USING tenant, statuses, job_type, tag, pattern, created_after, created_before, after_micros, after_id, lim;
END
$fn$;

DO $$
BEGIN
  REVOKE ALL ON FUNCTION enrichd_list_jobs(text[], text, text, text, timestamptz, timestamptz, bigint, uuid, integer) FROM PUBLIC;
  EXECUTE format('GRANT EXECUTE ON FUNCTION enrichd_list_jobs(text[], text, text, text, timestamptz, timestamptz, bigint, uuid, integer) TO %I',
                 current_setting('enrichd.app_role'));
END
$$;
