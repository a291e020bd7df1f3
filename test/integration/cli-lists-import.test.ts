// `enrichd lists import`: the built CLI streaming files to a running API, with progress and exit codes.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killAllChildren, runEnrichd } from '../helpers/processes.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';
import { TEST_JWT_SECRET } from '../helpers/urls.js';

let sys: TestSystem;
let dir: string;
let url: string;
let tenantId: string;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0 });
  const port = await freePort();
  await sys.app.listen({ port, host: '127.0.0.1' });
  url = `http://127.0.0.1:${port}`;
  tenantId = randomUUID();
  dir = mkdtempSync(join(tmpdir(), 'enrichd-cli-lists-'));
});
afterAll(async () => {
  await killAllChildren();
  await sys?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes a CSV of n rows; `bad` (a 1-based line) gets a row with a missing field. */
function writeCsv(name: string, n: number, bad?: number): string {
  const lines = ['external_id,email,Phone,tier'];
  for (let i = 1; i <= n; i++) lines.push(i + 1 === bad ? `X${i},broken` : `X${i},person${i}@example.com,+1 415 555 ${String(i % 10_000).padStart(4, '0')},t${i % 3}`);
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const env = () => ({ JWT_SECRET: TEST_JWT_SECRET });

async function listCount(): Promise<number> {
  const { rows } = await sys.services.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM lists WHERE tenant_id = $1::uuid', [tenantId]);
  return rows[0]!.n;
}

describe('enrichd lists import', () => {
  it('--help names the file, the options and the environment', async () => {
    const r = await runEnrichd(['lists', 'import', '--help'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: enrichd lists import');
    for (const re of [/<file\.csv>/, /--name <name>/, /--url <url>/, /--token <jwt>/, /JWT_SECRET/]) expect(r.stdout).toMatch(re);
  });

  it('streams a file, prints the list id and entry count, and shows plain progress off a terminal', async () => {
    const file = writeCsv('people.csv', 30_000);
    const r = await runEnrichd(['lists', 'import', file, '--url', url, '--tenant', tenantId], env(), 60_000);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const m = /^list ([0-9a-f-]{36}): 30000 entries, 4 columns \(3 recognised\), name "people"$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    expect(r.stderr).toMatch(/^uploaded 0% \(0\.\d of \d+\.\d MB\)$/m);
    expect(r.stderr).toMatch(/^uploaded 100% \(\d+\.\d MB\); waiting for the server/m);
    expect(r.stderr).not.toMatch(/\r/);
    const { rows } = await sys.services.pool.query<{ n: number; tenant_id: string }>(
      'SELECT count(*)::int AS n, min(tenant_id::text) AS tenant_id FROM list_entries WHERE list_id = $1::uuid',
      [m![1]],
    );
    expect(rows[0]).toEqual({ n: 30_000, tenant_id: tenantId });
  });

  it('--json prints the whole answer; --name names the list; --token is used as given', async () => {
    const file = writeCsv('small.csv', 3);
    const token = await sys.token({ tenantId });
    const r = await runEnrichd(['lists', 'import', file, '--url', `${url}/`, '--token', token, '--name', 'Q3 leads', '--json'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'Q3 leads', entryCount: 3, columns: [{ name: 'external_id', mappedTo: 'external_id' }, { name: 'email', mappedTo: 'email' }, { name: 'Phone', mappedTo: 'phone' }, { name: 'tier', mappedTo: null }] });
  });

  it('a bad line exits 1 naming it, and leaves no list', async () => {
    const before = await listCount();
    const file = writeCsv('bad.csv', 200_000, 3);
    const r = await runEnrichd(['lists', 'import', file, '--url', url, '--tenant', tenantId], env(), 60_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/refused \(400 invalid_csv\): Line 3: the row has 2 fields where the header has 4\./);
    expect(await listCount()).toBe(before);
  });

  it('exits 1 with one line for a missing file, a server that is not there, and no way to get a token', async () => {
    const missing = await runEnrichd(['lists', 'import', join(dir, 'nope.csv'), '--url', url], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^cannot read .*nope\.csv: /);
    const file = writeCsv('x.csv', 1);
    const down = await runEnrichd(['lists', 'import', file, '--url', `http://127.0.0.1:${await freePort()}`], env());
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/the upload to http:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
    const noSecret = await runEnrichd(['lists', 'import', file, '--url', url], {});
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr.trim()).toBe('give --token, or set JWT_SECRET so a token can be signed');
  });
});
