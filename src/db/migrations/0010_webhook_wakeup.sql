-- Wakes the delivery loop (src/events/webhooks/delivery-loop.ts) when deliveries are created,
-- instead of leaving them for its next poll: the two functions of 0006_webhooks.sql, unchanged
-- but for a NOTIFY on channel enrichd_webhook_deliveries when they inserted a row.
--
-- NOTIFY is delivered at commit (never for a rolled-back transaction), so the loop wakes when
-- the deliveries are visible. Identical notifications of one transaction are folded into one.
-- The guard's early RETURN stays free: a batch without webhooks sends nothing. The loop still
-- polls, so a notification lost with a dropped connection only delays a delivery to the poll.

CREATE OR REPLACE FUNCTION enrichd_webhook_deliveries_from_events() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  own integer;
  subscribed integer;
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
  GET DIAGNOSTICS own = ROW_COUNT;

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
  GET DIAGNOSTICS subscribed = ROW_COUNT;

  IF own + subscribed > 0 THEN
    PERFORM pg_notify('enrichd_webhook_deliveries', '');
  END IF;
  RETURN NULL;
END
$fn$;

-- job.progress: the same wake-up when an endpoint asked for it. CREATE OR REPLACE keeps the
-- function's owner and grants (EXECUTE for the application role only, from 0006).
CREATE OR REPLACE FUNCTION enrichd_webhook_progress(job uuid) RETURNS integer
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
  IF n > 0 THEN
    PERFORM pg_notify('enrichd_webhook_deliveries', '');
  END IF;
  RETURN n;
END
$fn$;
