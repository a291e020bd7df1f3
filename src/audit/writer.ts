// Writes audit records in batches off the request path: a request only queues its record,
// and one INSERT ... SELECT FROM unnest per batch writes them. A failed write is logged and
// never reaches the request it came from.
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.js';
import { Batcher } from '../util/batcher.js';

/** One state-changing call: ids and codes only (no body, query string, token or secret). */
export interface AuditRecord {
  tenantId: string;
  at: Date;
  sub: string | null;
  action: string;
  resource: string;
  resourceId: string | null;
  status: number;
  requestId: string;
}

export interface AuditWriterOptions {
  pool: Pool;
  log: Logger;
  /** most records in one INSERT */
  maxBatch?: number;
  /** ms a record waits for others before its INSERT starts (default 100) */
  lingerMs?: number;
  /** most records waiting; beyond it (PostgreSQL away for long) new ones are dropped and counted in the log */
  maxPending?: number;
}

// The connecting role writes across tenants; the application role may only read the trail.
const INSERT = `
INSERT INTO audit_log (tenant_id, at, sub, action, resource, resource_id, status, request_id)
SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::smallint[], $8::text[])`;

/** Queues audit records and writes them in bulk. */
export class AuditWriter {
  private readonly batcher: Batcher<AuditRecord, void>;
  private readonly maxPending: number;
  private dropped = 0;

  constructor(private readonly opts: AuditWriterOptions) {
    this.maxPending = opts.maxPending ?? 100_000;
    // A record waits up to lingerMs for others: at a few hundred calls a second that is one
    // INSERT (and one commit) per tick instead of one per call.
    this.batcher = new Batcher({ maxBatch: opts.maxBatch ?? 1000, maxInFlight: 2, lingerMs: opts.lingerMs ?? 100, run: (items) => this.write(items) });
  }

  /** Queues one record; returns at once. */
  record(r: AuditRecord): void {
    if (this.batcher.size >= this.maxPending) {
      if (this.dropped++ % 1000 === 0) this.opts.log.error({ dropped: this.dropped }, 'audit records dropped: too many waiting to be written');
      return;
    }
    void this.batcher.add(r).catch(() => undefined);
  }

  /** Records waiting or being written. */
  get pending(): number {
    return this.batcher.size;
  }

  /** Waits until every queued record is written (or its write failed), at most timeoutMs. */
  async drain(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.batcher.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  private async write(items: AuditRecord[]): Promise<void[]> {
    try {
      await this.opts.pool.query(INSERT, [
        items.map((r) => r.tenantId),
        items.map((r) => r.at),
        items.map((r) => r.sub),
        items.map((r) => r.action),
        items.map((r) => r.resource),
        items.map((r) => r.resourceId),
        items.map((r) => r.status),
        items.map((r) => r.requestId),
      ]);
    } catch (err) {
      this.opts.log.error({ err: { message: (err as Error).message }, records: items.length }, 'audit records not written');
    }
    return items.map(() => undefined);
  }
}
