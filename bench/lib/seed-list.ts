// Writes generated entries straight into a new list of the bench tenant with COPY, as a bulk
// load would, so a bench measures its job and not the upload.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { BenchEnv } from './env.js';

/** Creates a list named `name` holding entry(0) .. entry(n - 1); returns its id. */
export async function seedList(env: BenchEnv, name: string, n: number, entry: (i: number) => Record<string, unknown>): Promise<string> {
  const listId = randomUUID();
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    await client.query('INSERT INTO lists (id, tenant_id, name, entry_count) VALUES ($1, $2, $3, $4)', [listId, env.tenantId, name, n]);
    let i = 0;
    const rows = new Readable({
      read() {
        let chunk = '';
        for (let k = 0; k < 2000 && i < n; k++, i++) chunk += `${env.tenantId}\t${listId}\t${JSON.stringify(entry(i)).replace(/\\/g, '\\\\')}\n`;
        this.push(chunk.length > 0 ? chunk : null);
      },
    });
    await pipeline(rows, client.query(copyFrom('COPY list_entries (tenant_id, list_id, data) FROM STDIN')));
    await client.query('ANALYZE list_entries');
  } finally {
    await client.end();
  }
  return listId;
}
