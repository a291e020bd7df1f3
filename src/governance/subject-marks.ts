// "Do not look up" marks: a keyed hash of each normalised identifier of an erased subject (or
// of one a provider refused to process), never the identifier itself. Workers consult them
// before every provider call.
import { createHmac, randomBytes } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import { Batcher } from '../util/batcher.js';

/** The identifiers a mark can be made from (already normalised: lower-cased email, E.164 phone). */
export interface MarkIdentifiers {
  email?: string;
  phone?: string;
  externalId?: string;
}

type Kind = 'email' | 'phone' | 'external_id';

const ENSURE_KEY = 'INSERT INTO privacy_hash_key (id, key) VALUES (1, $1::bytea) ON CONFLICT (id) DO NOTHING';
const READ_KEY = 'SELECT key FROM privacy_hash_key WHERE id = 1';

const INSERT_MARKS = `
INSERT INTO privacy_marks (scope, kind, hash)
SELECT $1::text, k, h FROM unnest($2::text[], $3::text[]) AS t(k, h)
ON CONFLICT DO NOTHING`;

// Many checks in one statement: each (check, scope, kind, hash) row asks about one identifier
// of one check; the answer names the checks with a mark.
const MARKED_CHECKS = `
SELECT DISTINCT t.i FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS t(i, scope, k, h)
WHERE EXISTS (SELECT 1 FROM privacy_marks m WHERE m.scope IN (t.scope, 'global') AND m.kind = t.k AND m.hash = t.h)`;

interface MarkCheck {
  scope: string;
  kinds: Kind[];
  hashes: string[];
}

/** The marks of one database: hashes with its key, checks and additions. */
export class SubjectMarks {
  private key: Promise<Buffer> | null = null;

  /** `secret` (PRIVACY_HASH_SECRET) is mixed into the database's own key when set, so a dump alone cannot test guesses. */
  constructor(
    private readonly pool: Pool,
    private readonly secret?: string,
  ) {}

  /** The HMAC key: the database's random key (made on first use), keyed again with the secret when there is one. */
  private hashKey(): Promise<Buffer> {
    this.key ??= (async () => {
      await this.pool.query(ENSURE_KEY, [randomBytes(32)]);
      const { rows } = await this.pool.query<{ key: Buffer }>(READ_KEY);
      const base = rows[0]!.key;
      return this.secret === undefined ? base : createHmac('sha256', this.secret).update(base).digest();
    })().catch((err: unknown) => {
      this.key = null;
      throw err;
    });
    return this.key;
  }

  /** The (kind, hash) pairs of the identifiers given. */
  async hashes(ids: MarkIdentifiers): Promise<{ kinds: Kind[]; hashes: string[] }> {
    const key = await this.hashKey();
    const pairs: [Kind, string | undefined][] = [['email', ids.email], ['phone', ids.phone], ['external_id', ids.externalId]];
    const kinds: Kind[] = [];
    const hashes: string[] = [];
    for (const [kind, value] of pairs) {
      if (value === undefined || value === '') continue;
      kinds.push(kind);
      hashes.push(createHmac('sha256', key).update(`${kind}:${value}`).digest('base64url'));
    }
    return { kinds, hashes };
  }

  /** Adds marks for the identifiers under a scope (a tenant's id, or 'global'); returns how many were new. */
  async mark(scope: string, ids: MarkIdentifiers): Promise<number> {
    const { kinds, hashes } = await this.hashes(ids);
    if (kinds.length === 0) return 0;
    const { rowCount } = await this.pool.query(INSERT_MARKS, [scope, kinds, hashes]);
    return rowCount ?? 0;
  }

  /** Whether any of the identifiers is marked for the tenant (its own marks or global ones). */
  async isMarked(tenantId: string, ids: MarkIdentifiers): Promise<boolean> {
    const { kinds, hashes } = await this.hashes(ids);
    if (kinds.length === 0) return false;
    return this.checks.add({ scope: tenantId, kinds, hashes });
  }

  // Every provider lookup asks first: the checks that arrive while one statement is in flight
  // go together in the next, so a busy worker pays one query per batch, not one per lookup.
  private readonly checks = new Batcher<MarkCheck, boolean>({
    maxBatch: 1000,
    maxInFlight: 1,
    run: async (checks) => {
      const cols: [number[], string[], string[], string[]] = [[], [], [], []];
      checks.forEach((c, i) => {
        c.kinds.forEach((k, j) => {
          cols[0].push(i);
          cols[1].push(c.scope);
          cols[2].push(k);
          cols[3].push(c.hashes[j]!);
        });
      });
      const { rows } = await this.pool.query<{ i: number }>(MARKED_CHECKS, cols);
      const marked = new Set(rows.map((r) => r.i));
      return checks.map((_, i) => marked.has(i));
    },
  });
}
