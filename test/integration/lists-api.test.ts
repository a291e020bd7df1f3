// POST /v1/lists (CSV streamed, JSON), list reads, entry pages with their merged enrichment, and tenancy.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson } from '../helpers/api.js';
import { type ErrorBody, expectErrorShape } from '../helpers/errors.js';
import { type TestSystem, startTestSystem } from '../helpers/system.js';

interface Imported {
  id: string;
  name: string;
  entryCount: number;
  columns: { name: string; mappedTo: string | null }[];
}
interface List extends Imported {
  createdAt: string;
}
interface Entry {
  id: string;
  data: Record<string, unknown>;
  enrichment: Record<string, unknown>;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

let sys: TestSystem;
let token: string;
let tenantId: string;

beforeAll(async () => {
  sys = await startTestSystem({ workers: 0 });
  tenantId = randomUUID();
  token = await sys.token({ tenantId });
});
afterAll(async () => {
  await sys?.close();
});

async function postCsv(payload: string | Buffer | Readable, query = '', auth = token) {
  const res = await sys.app.inject({
    method: 'POST',
    url: `/v1/lists${query}`,
    headers: { authorization: `Bearer ${auth}`, 'content-type': 'text/csv; charset=utf-8' },
    payload,
  });
  return { status: res.statusCode, body: res.json() as unknown, headers: res.headers };
}

async function counts(owner = tenantId): Promise<{ lists: number; entries: number }> {
  const { rows } = await sys.services.pool.query<{ lists: number; entries: number }>(
    `SELECT (SELECT count(*)::int FROM lists WHERE tenant_id = $1::uuid) AS lists,
            (SELECT count(*)::int FROM list_entries WHERE tenant_id = $1::uuid) AS entries`,
    [owner],
  );
  return rows[0]!;
}

async function allEntries(listId: string, limit = 500): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: Page<Entry> } = await getJson<Page<Entry>>(sys.app, `/v1/lists/${listId}/entries?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, token);
    expect(res.status).toBe(200);
    out.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

describe('CSV import', () => {
  const csv = [
    '\uFEFFExternal_ID, First_Name ,LAST_NAME,email,Phone,loyalty tier,notes',
    'A1,Ann,Smith,ann@example.com,+1 415 555 0100,gold,"likes ""quotes"", commas"',
    'A2,Bob,Jones,bob@example.org,,silver,"two',
    'lines"',
    '',
    'A3,Zoë,Ünal,zoe@example.net,020 7946 0000,,back\\slash\ttab',
  ].join('\r\n');

  it('answers 201 with the count and each column mapped (case-insensitive, trimmed) or null', async () => {
    const res = await postCsv(csv, '?name=People');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const list = res.body as Imported;
    expect(res.headers.location).toBe(`/v1/lists/${list.id}`);
    expect(list).toMatchObject({ name: 'People', entryCount: 3 });
    expect(list.columns).toEqual([
      { name: 'External_ID', mappedTo: 'external_id' },
      { name: ' First_Name ', mappedTo: 'first_name' },
      { name: 'LAST_NAME', mappedTo: 'last_name' },
      { name: 'email', mappedTo: 'email' },
      { name: 'Phone', mappedTo: 'phone' },
      { name: 'loyalty tier', mappedTo: null },
      { name: 'notes', mappedTo: null },
    ]);

    const read = await getJson<List>(sys.app, `/v1/lists/${list.id}`, token);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: list.id, name: 'People', entryCount: 3, columns: list.columns });
    expect(new Date(read.body.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);

    const entries = await allEntries(list.id);
    expect(entries.map((e) => e.data)).toEqual([
      { External_ID: 'A1', ' First_Name ': 'Ann', LAST_NAME: 'Smith', email: 'ann@example.com', Phone: '+1 415 555 0100', 'loyalty tier': 'gold', notes: 'likes "quotes", commas' },
      { External_ID: 'A2', ' First_Name ': 'Bob', LAST_NAME: 'Jones', email: 'bob@example.org', Phone: '', 'loyalty tier': 'silver', notes: 'two\r\nlines' },
      { External_ID: 'A3', ' First_Name ': 'Zoë', LAST_NAME: 'Ünal', email: 'zoe@example.net', Phone: '020 7946 0000', 'loyalty tier': '', notes: 'back\\slash\ttab' },
    ]);
    for (const e of entries) {
      expect(e.id).toMatch(/^\d+$/);
      expect(e.enrichment).toEqual({});
    }
    expect(Number(entries[0]!.id)).toBeLessThan(Number(entries[1]!.id));
  });

  it('names a list without ?name= after the upload time', async () => {
    const res = await postCsv('email\nx@example.com\n');
    expect(res.status).toBe(201);
    expect((res.body as Imported).name).toMatch(/^upload \d{4}-\d\d-\d\dT/);
  });

  it('reads characters split across chunks of the upload', async () => {
    const bytes = Buffer.from('name,city\nZoë,Zürich\n李,北京\n');
    const res = await postCsv(Readable.from([...bytes].map((b) => Buffer.from([b]))), '?name=split');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await allEntries((res.body as Imported).id)).map((e) => e.data)).toEqual([
      { name: 'Zoë', city: 'Zürich' },
      { name: '李', city: '北京' },
    ]);
  });
});

describe('a malformed CSV is a 400 invalid_csv naming the line, and leaves no list', () => {
  const cases: [string, string | Buffer, number][] = [
    ['an unclosed quote (the line where it opens)', 'a,b\n1,2\n"3,4\n5,6\n7,8\n', 3],
    ['a stray quote inside a field', 'a,b\n1,2\n3,4"x\n', 3],
    ['a bad closing quote', 'a,b\n1,2\n3,"4"x\n', 3],
    ['a row with too many fields', 'a,b\n1,2\n3,4\n5,6,7\n', 4],
    ['a row with too few fields', 'a,b,c\n1,2,3\n4,5\n', 3],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from('a,b\n1,2\n3,'), Buffer.from([0xff, 0xfe]), Buffer.from('\n5,6\n')]), 3],
    ['Latin-1 text', Buffer.from('name\nJos\xe9\n', 'latin1'), 2],
    ['a file that ends inside a character', Buffer.concat([Buffer.from('a\nx\n'), Buffer.from([0xe2, 0x82])]), 3],
    ['a NUL character', 'a,b\n1,2\n3,4\u0000\n', 3],
    ['an empty file', '', 1],
    ['a header without rows', 'email,phone\n', 2],
    ['a duplicate header name', 'email,phone,email\nx,y,z\n', 1],
    ['header names that differ only in case', 'Email,email\nx,y\n', 1],
    ['an empty header name', 'email,,phone\nx,y,z\n', 1],
    ['a header name the JSON guard refuses', '__proto__,email\nx,y\n', 1],
  ];

  it.each(cases)('%s', async (_label, payload, line) => {
    const before = await counts();
    const res = await postCsv(payload, '?name=bad');
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expectErrorShape(res.body);
    const body = res.body as ErrorBody;
    expect(body.error.code).toBe('invalid_csv');
    expect(body.error.message).toMatch(new RegExp(`^Line ${line}: `));
    expect(body.error.details[0]).toMatchObject({ line });
    expect(await counts()).toEqual(before);
  });

  it('the unclosed-quote line is where the record starts, even after a quoted newline', async () => {
    const res = await postCsv('a,b\n1,"x\ny"\n2,"open\n3,4\n', '?name=bad');
    expect((res.body as ErrorBody).error.details[0]).toMatchObject({ line: 4 });
  });

  it('a row over 1 MiB (a quote left open in a large file) is refused without buffering the rest', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => `${i},row ${i} with some padding text`).join('\n');
    const res = await postCsv(`id,text\n1,"never closed\n${rows}\n`, '?name=bad');
    expect(res.status).toBe(400);
    expect((res.body as ErrorBody).error.message).toMatch(/^Line 2: .*1 MiB/);
  });
});

/** A CSV of n generated people, produced chunk by chunk (never one string); `bad` breaks that 1-based line. */
function peopleStream(n: number, bad?: number): Readable {
  function* gen(): Generator<string> {
    yield 'external_id,first_name,last_name,email,phone,postcode,segment\n';
    let chunk = '';
    for (let i = 1; i <= n; i++) {
      const line = i + 1;
      chunk += line === bad ? `P${i},broken\n` : `P${i},Given${i % 97},Family${i % 89},p${i}@example.com,+1415555${String(i % 10_000).padStart(4, '0')},${1000 + (i % 8000)},"s, ${i % 7}"\n`;
      if (chunk.length > 16_384) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  return Readable.from(gen(), { objectMode: false });
}

describe('streaming import', () => {
  it('imports 50,000 rows streamed in chunks, in file order', async () => {
    const started = Date.now();
    const res = await postCsv(peopleStream(50_000), '?name=big');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const list = res.body as Imported;
    expect(list.entryCount).toBe(50_000);
    const { rows } = await sys.services.pool.query<{ n: number; first: Record<string, string>; last: Record<string, string> }>(
      `SELECT count(*)::int AS n,
              (array_agg(data ORDER BY id))[1] AS first,
              (array_agg(data ORDER BY id DESC))[1] AS last
       FROM list_entries WHERE list_id = $1::uuid`,
      [list.id],
    );
    expect(rows[0]!.n).toBe(50_000);
    expect(rows[0]!.first).toMatchObject({ external_id: 'P1', segment: 's, 1' });
    expect(rows[0]!.last).toMatchObject({ external_id: 'P50000', email: 'p50000@example.com' });
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a bad row deep in a streamed file names its line and rolls back the rows before it', async () => {
    const before = await counts();
    const res = await postCsv(peopleStream(50_000, 40_001), '?name=bad-big');
    expect(res.status).toBe(400);
    expect((res.body as ErrorBody).error).toMatchObject({ code: 'invalid_csv', details: [{ line: 40_001 }] });
    expect(await counts()).toEqual(before);
  });
});

describe('JSON import', () => {
  it('stores entries as given (numbers stay numbers), columns in first-seen order', async () => {
    const res = await postJson<Imported>(sys.app, '/v1/lists', token, {
      name: ' json list ',
      entries: [
        { EMAIL: 'a@example.com', Postcode: 2000, vip: true },
        { EMAIL: 'b@example.com', company: 'Acme', note: null },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ name: 'json list', entryCount: 2 });
    expect(res.body.columns).toEqual([
      { name: 'EMAIL', mappedTo: 'email' },
      { name: 'Postcode', mappedTo: 'postcode' },
      { name: 'vip', mappedTo: null },
      { name: 'company', mappedTo: 'company' },
      { name: 'note', mappedTo: null },
    ]);
    expect((await allEntries(res.body.id)).map((e) => e.data)).toEqual([
      { EMAIL: 'a@example.com', Postcode: 2000, vip: true },
      { EMAIL: 'b@example.com', company: 'Acme', note: null },
    ]);
  });

  it.each([
    ['no entries', { name: 'x', entries: [] }, ['entries']],
    ['a nested value', { name: 'x', entries: [{ email: 'a' }, { email: { v: 1 } }] }, ['entries.1.email']],
    ['an entry that is not an object', { name: 'x', entries: ['a'] }, ['entries.0']],
    ['an empty entry', { name: 'x', entries: [{}] }, ['entries.0']],
    ['no name', { entries: [{ email: 'a' }] }, ['name']],
    ['keys equal but for case', { name: 'x', entries: [{ email: 'a' }, { Email: 'b' }] }, ['entries']],
  ])('refuses %s naming the field, and keeps nothing', async (_label, body, paths) => {
    const before = await counts();
    const res = await postJson<ErrorBody>(sys.app, '/v1/lists', token, body);
    expect(res.status).toBe(400);
    expectErrorShape(res.body);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.details.map((d) => d.path)).toEqual(paths);
    expect(await counts()).toEqual(before);
  });

  it('caps the details of an upload with many bad entries', async () => {
    const res = await postJson<ErrorBody>(sys.app, '/v1/lists', token, { name: 'x', entries: Array.from({ length: 500 }, () => ({ a: [1] })) });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toHaveLength(50);
    expect(res.body.error.message).toContain('of 500');
  });

  it('refuses other media types with 415 naming both accepted ones', async () => {
    const res = await sys.app.inject({ method: 'POST', url: '/v1/lists', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, payload: 'a\n1\n' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ error: { code: 'unsupported_media_type', message: expect.stringMatching(/text\/csv.*application\/json/) } });
  });
});

describe('reading lists', () => {
  let owner: string;
  let ownerToken: string;
  const ids: string[] = [];

  beforeAll(async () => {
    owner = randomUUID();
    ownerToken = await sys.token({ tenantId: owner });
    for (const name of ['first', 'second', 'third']) {
      const res = await postCsv('email\na@example.com\nb@example.com\nc@example.com\nd@example.com\ne@example.com\n', `?name=${name}`, ownerToken);
      ids.push((res.body as Imported).id);
    }
  });

  it('pages lists newest first with a cursor', async () => {
    const first = await getJson<Page<List>>(sys.app, '/v1/lists?limit=2', ownerToken);
    expect(first.status).toBe(200);
    expect(first.body.items.map((l) => l.name)).toEqual(['third', 'second']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await getJson<Page<List>>(sys.app, `/v1/lists?limit=2&cursor=${first.body.nextCursor}`, ownerToken);
    expect(second.body.items.map((l) => l.name)).toEqual(['first']);
    expect(second.body.nextCursor).toBeNull();
    expect(second.body.items[0]).toMatchObject({ id: ids[0], entryCount: 5, columns: [{ name: 'email', mappedTo: 'email' }] });
  });

  it('pages entries by ascending id', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: Page<Entry> } = await getJson<Page<Entry>>(sys.app, `/v1/lists/${ids[1]}/entries?limit=2${cursor ? `&cursor=${cursor}` : ''}`, ownerToken);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((e) => String(e.data.email)));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'e@example.com']);
  });

  it('refuses a bad cursor, limit or id with 400', async () => {
    for (const url of ['/v1/lists?cursor=nonsense', '/v1/lists?limit=501', '/v1/lists?limit=0', `/v1/lists/${ids[0]}/entries?cursor=abc`, '/v1/lists/not-a-uuid', '/v1/lists/not-a-uuid/entries']) {
      const res = await getJson<ErrorBody>(sys.app, url, ownerToken);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
  });

  it("another tenant gets 404 for the list and its entries, and sees no lists", async () => {
    const other = await sys.token();
    expect((await getJson(sys.app, `/v1/lists/${ids[0]}`, other)).status).toBe(404);
    expect((await getJson(sys.app, `/v1/lists/${ids[0]}/entries`, other)).status).toBe(404);
    expect((await getJson<Page<List>>(sys.app, '/v1/lists', other)).body).toEqual({ items: [], nextCursor: null });
    expect((await getJson(sys.app, `/v1/lists/${randomUUID()}`, ownerToken)).status).toBe(404);
  });

  it('an import writes the authenticated tenant on every row', async () => {
    const { rows } = await sys.services.pool.query<{ tenant_id: string; n: number }>(
      'SELECT tenant_id, count(*)::int AS n FROM list_entries WHERE list_id = ANY($1::uuid[]) GROUP BY tenant_id',
      [ids],
    );
    expect(rows).toEqual([{ tenant_id: owner, n: 15 }]);
  });
});

describe('enrichment merge', () => {
  it('shows each step from the latest job that ran it, and {} for an entry without results', async () => {
    const res = await postCsv('email,phone\na@example.com,1\nb@example.com,2\n', '?name=merge');
    const list = res.body as Imported;
    const before = await allEntries(list.id);
    const [a, b] = before;
    const older = randomUUID();
    const newer = randomUUID();
    const insert = `INSERT INTO entry_results (entry_id, job_id, tenant_id, list_id, results, outcomes, updated_at)
                    VALUES ($1::bigint, $2::uuid, $3::uuid, $4::uuid, $5, '{}', now() - $6::interval)`;
    // The newer job's row is written first: order of insertion must not matter, updated_at does.
    await sys.services.pool.query(insert, [a!.id, newer, tenantId, list.id, JSON.stringify({ rpc_score: { score: 90, class: 'rpc' } }), '1 minute']);
    await sys.services.pool.query(insert, [a!.id, older, tenantId, list.id, JSON.stringify({ rpc_score: { score: 10, class: 'wpc' }, email_validation: { status: 'valid' } }), '1 hour']);
    const after = await allEntries(list.id);
    expect(after[0]!.enrichment).toEqual({ rpc_score: { score: 90, class: 'rpc' }, email_validation: { status: 'valid' } });
    expect(after[1]!.enrichment).toEqual({});
    expect(after[1]!.id).toBe(b!.id);
    // A later re-run of the older job's step (its row updated) now wins.
    await sys.services.pool.query('UPDATE entry_results SET results = $3, updated_at = now() WHERE entry_id = $1::bigint AND job_id = $2::uuid', [
      a!.id,
      older,
      JSON.stringify({ rpc_score: { score: 55, class: 'review' }, email_validation: { status: 'valid' } }),
    ]);
    expect((await allEntries(list.id))[0]!.enrichment).toEqual({ rpc_score: { score: 55, class: 'review' }, email_validation: { status: 'valid' } });
  });
});
