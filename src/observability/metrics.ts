// Prometheus metrics of one process: one registry per Metrics object, never prom-client's global one.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How an attempt (or a list job, at its last chunk) ended. */
export type AttemptEnd = 'completed' | 'retrying' | 'failed';

/** BullMQ's view of the queue, as the queue-depth gauge reports it. */
export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
}

/** What the scrape-time gauges read; each may throw or time out, and the gauge then stays empty. */
export interface MetricSources {
  queueDepth?: () => Promise<QueueDepth>;
  /** seconds since the oldest job that is due but not started became due; 0 when none */
  oldestWaitingSeconds?: () => Promise<number>;
}

/** The fields of a started job that its queue wait is measured from (a JobRow has them all). */
export interface StartedRow {
  attempts: number;
  created_at: Date;
  run_at: Date | null;
  attempt_started_at: Date | null;
}

// Waits run from milliseconds (an idle worker) to hours (a backlog); runs likewise.
const WAIT_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600];
const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SCRAPE_TIMEOUT_MS = 500;

/**
 * Counters, histograms and gauges of enrichd. Labels are bounded: job type, status, state,
 * outcome, HTTP method, route pattern and status code; never a job, tenant or worker id.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly submitted: Counter<'type'>;
  private readonly started: Counter<'type'>;
  private readonly completed: Counter<'type'>;
  private readonly retried: Counter<'type'>;
  private readonly failed: Counter<'type'>;
  private readonly deadLettered: Counter<'type'>;
  private readonly queueWait: Histogram<'type'>;
  private readonly runTime: Histogram<'type' | 'status'>;
  private readonly entries: Counter<'outcome'>;
  private readonly http: Histogram<'method' | 'route' | 'status_code'>;
  private readonly heartbeats: Counter;
  private readonly inFlightSources = new Set<() => number>();
  private sources: MetricSources = {};

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['type'] as const, registers });
    this.submitted = counter('enrichd_jobs_submitted_total', 'Jobs recorded by a submit (idempotent repeats not counted).');
    this.started = counter('enrichd_jobs_started_total', 'Attempts started by a worker.');
    this.completed = counter('enrichd_jobs_completed_total', 'Jobs that ended completed.');
    this.retried = counter('enrichd_jobs_retried_total', 'Failed attempts that will be tried again (job now retrying).');
    this.failed = counter('enrichd_jobs_failed_total', 'Jobs that ended failed (a permanent error, or no attempts left).');
    this.deadLettered = counter('enrichd_jobs_dead_lettered_total', 'Jobs that ended failed because their round of attempts was spent.');
    this.queueWait = new Histogram({
      name: 'enrichd_job_queue_wait_seconds',
      help: "Time from a job's due moment (created, or its runAt) to the start of its first attempt.",
      labelNames: ['type'] as const,
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.runTime = new Histogram({
      name: 'enrichd_job_run_seconds',
      help: 'Time from the start of an attempt to its end, by how it ended.',
      labelNames: ['type', 'status'] as const,
      buckets: RUN_BUCKETS,
      registers,
    });
    this.entries = new Counter({
      name: 'enrichd_list_entries_processed_total',
      help: 'List entries processed by committed chunks; failed = an enrichment step raised.',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.http = new Histogram({
      name: 'enrichd_http_request_duration_seconds',
      help: 'HTTP request durations by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.heartbeats = new Counter({ name: 'enrichd_worker_heartbeats_total', help: 'Worker heartbeats written to PostgreSQL.', registers });
    const inFlight = this.inFlightSources;
    new Gauge({
      name: 'enrichd_worker_in_flight',
      help: "Tasks this process's workers are running now.",
      registers,
      collect() {
        let n = 0;
        for (const read of inFlight) n += read();
        this.set(n);
      },
    });
    const sources = () => this.sources;
    // Queue-wide figures: every process of a supervisor reads the same queue, so merged
    // across processes they take the largest reading, not the sum.
    new Gauge({
      name: 'enrichd_queue_depth',
      help: 'Tasks in the BullMQ queue by state (waiting includes prioritized), read at scrape.',
      labelNames: ['state'] as const,
      aggregator: 'max',
      registers,
      async collect() {
        const read = sources().queueDepth;
        if (!read) return;
        try {
          const depth = await withTimeout(read(), SCRAPE_TIMEOUT_MS);
          for (const state of ['waiting', 'active', 'delayed'] as const) this.set({ state }, depth[state]);
        } catch {
          this.reset(); // no reading: no samples, rather than a stale figure
        }
      },
    });
    new Gauge({
      name: 'enrichd_queue_oldest_waiting_seconds',
      help: 'Age of the oldest job that is due and not started (pending, or retrying past its retry time), from PostgreSQL at scrape.',
      aggregator: 'max',
      registers,
      async collect() {
        const read = sources().oldestWaitingSeconds;
        if (!read) return;
        try {
          this.set(await withTimeout(read(), SCRAPE_TIMEOUT_MS));
        } catch {
          this.reset();
        }
      },
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Sets where the scrape-time queue gauges read from. */
  setSources(sources: MetricSources): void {
    this.sources = sources;
  }

  /** Starts every per-type series at 0, so rates work from the first scrape. */
  knownTypes(types: readonly string[]): void {
    for (const type of types) {
      for (const c of [this.submitted, this.started, this.completed, this.retried, this.failed, this.deadLettered]) c.inc({ type }, 0);
    }
  }

  /** A job was recorded by a submit. */
  jobSubmitted(type: string, n = 1): void {
    this.submitted.inc({ type }, n);
  }

  /** An attempt started; its queue wait is observed for a job's first attempt only (see queueWaitSeconds). */
  attemptStarted(type: string, row?: StartedRow): void {
    this.started.inc({ type });
    const wait = row ? queueWaitSeconds(row) : null;
    if (wait !== null) this.queueWait.observe({ type }, wait);
  }

  /**
   * An attempt (or a list job at its last chunk) ended and the database took it. attemptStartedAt
   * gives the run time (unknown for list jobs, whose run spans chunk tasks); deadLettered marks a
   * failure whose round of attempts was spent.
   */
  attemptEnded(type: string, status: AttemptEnd, attemptStartedAt: Date | null, deadLettered = false): void {
    if (status === 'completed') this.completed.inc({ type });
    else if (status === 'retrying') this.retried.inc({ type });
    else {
      this.failed.inc({ type });
      if (deadLettered) this.deadLettered.inc({ type });
    }
    // The start is PostgreSQL's clock and the end ours: clamped, as the two may differ slightly.
    if (attemptStartedAt) this.runTime.observe({ type, status }, Math.max(0, (Date.now() - attemptStartedAt.getTime()) / 1000));
  }

  /** A chunk of a list job committed its entries. */
  entriesProcessed(succeeded: number, failed: number): void {
    if (succeeded > 0) this.entries.inc({ outcome: 'succeeded' }, succeeded);
    if (failed > 0) this.entries.inc({ outcome: 'failed' }, failed);
  }

  /** A worker's heartbeat reached PostgreSQL. */
  heartbeat(): void {
    this.heartbeats.inc();
  }

  /** Adds a worker's in-flight count to the gauge; returns the function that removes it. */
  trackInFlight(read: () => number): () => void {
    this.inFlightSources.add(read);
    return () => this.inFlightSources.delete(read);
  }

  /** Observes one HTTP request; route is the pattern ('/v1/enrichment/jobs/:id'), never the raw URL. */
  httpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.http.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  /** The registry in Prometheus text format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * Seconds a job waited before its first attempt, from when it was due: its creation, or its
 * runAt when later. Later attempts are not observed: a retry waits out the backoff chosen for
 * it, and after a start PostgreSQL no longer holds when that backoff ended.
 */
export function queueWaitSeconds(row: StartedRow): number | null {
  if (row.attempts !== 1 || !row.attempt_started_at) return null;
  const due = Math.max(row.created_at.getTime(), row.run_at?.getTime() ?? 0);
  return Math.max(0, (row.attempt_started_at.getTime() - due) / 1000);
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
