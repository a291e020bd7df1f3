-- Each chunk keeps the counts of its entries' outcomes per step, written in the chunk's own
-- commit, so a list job's summary is a sum over its chunks (thousands of small rows) instead
-- of an aggregate over every result (a million rows, seconds at the end of a big job). A
-- job whose failed entries were re-run has chunks that count some entries twice: its summary
-- is aggregated from the results instead (see src/queue/chunks/sql.ts).
ALTER TABLE list_job_chunks ADD COLUMN outcomes jsonb;
