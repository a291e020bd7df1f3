// List import benchmark (11a): a 1,000,000-row CSV streamed through POST /v1/lists, beside a raw
// COPY of the same rows into a table of the same layout in the same run, and the API's peak RSS.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { COPY_ENTRIES, copyLine, copyPrefix, recordJson, recordKeys } from '../src/lists/copy-text.js';
import { RECOGNISED_COLUMNS } from '../src/lists/columns.js';
import { cpuMeter, formatCores } from './lib/cpu.js';
import { type BenchEnv, openBenchEnv } from './lib/env.js';
import { ROOT, freePort, spawnNode, stopAll, waitForHttp } from './lib/proc.js';
import { type BenchModule, type Figure } from './lib/report.js';
import { type Measured, withStealRetry } from './lib/steal.js';

const ROWS = Number(process.env.BENCH_LIST_ROWS ?? 1_000_000);
const RATIO_TARGET = 0.5;
const RSS_TARGET_MB = 300;
const FEBRL = join(ROOT, '..', 'shared', 'data', 'febrl', 'dataset4a.csv');
const FEBRL_FALLBACK = '/work/shared/data/febrl/dataset4a.csv';

const log = (line: string) => process.stderr.write(`  ${line}\n`);

export const bench: BenchModule = {
  name: 'lists-import',
  async run() {
    const env = await openBenchEnv();
    const dir = mkdtempSync(join(tmpdir(), 'enrichd-bench-lists-'));
    try {
      const files = await generate(dir, ROWS);
      log(`generated ${ROWS} rows: CSV ${(files.csvBytes / 1e6).toFixed(0)} MB, COPY text ${(files.copyBytes / 1e6).toFixed(0)} MB`);
      const m = await withStealRetry(() => measure(env, files), 0.05, 2);
      return figures(m);
    } finally {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
      await env.close();
    }
  },
};

interface Result {
  apiRowsPerS: number;
  copyRowsPerS: number;
  peakRssMb: number;
  idleRssMb: number;
}

function figures(m: Measured<Result>): Figure[] {
  const r = m.value;
  return [
    {
      name: `(11a) list import, ${ROWS / 1e6}M rows (API vs raw COPY)`,
      unit: 'rows/s',
      value: r.apiRowsPerS,
      baseline: r.copyRowsPerS,
      target: `ratio >= ${RATIO_TARGET}`,
      pass: r.apiRowsPerS / r.copyRowsPerS >= RATIO_TARGET,
      steal: m.steal,
      tries: m.tries,
    },
    {
      name: '(11a) API peak RSS during import (vs idle)',
      unit: 'MB',
      value: r.peakRssMb,
      baseline: r.idleRssMb,
      target: `< ${RSS_TARGET_MB} MB`,
      pass: r.peakRssMb < RSS_TARGET_MB,
      steal: m.steal,
      tries: m.tries,
    },
  ];
}

// ---------- data ----------

interface Person {
  given: string;
  surname: string;
  streetNumber: string;
  street: string;
  suburb: string;
  postcode: string;
  state: string;
  dob: string;
}

/** FEBRL dataset4a people (synthetic Australian records), the seed of every generated row. */
function febrlPeople(): Person[] {
  let text: string;
  try {
    text = readFileSync(FEBRL, 'utf8');
  } catch {
    text = readFileSync(FEBRL_FALLBACK, 'utf8');
  }
  const people: Person[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 11 || !f[1] || !f[2]) continue;
    const dob = /^\d{8}$/.test(f[9]!) ? `${f[9]!.slice(0, 4)}-${f[9]!.slice(4, 6)}-${f[9]!.slice(6, 8)}` : '1970-01-01';
    people.push({ given: f[1]!, surname: f[2]!, streetNumber: f[3] || '1', street: f[4] || 'main street', suburb: f[6] || 'sydney', postcode: f[7] || '2000', state: f[8] || 'nsw', dob });
  }
  return people;
}

const COMPANIES = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'vandelay', 'stark', 'wayne', 'tyrell', 'cyberdyne'];
const FREE_MAIL = ['gmail.com', 'yahoo.com', 'outlook.com', 'bigpond.com'];
const cap = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);
const csvCell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/** Row i: a FEBRL person with variations (the i/5000-th pass changes case, typos, contacts, domains). */
function row(people: Person[], i: number): string[] {
  const p = people[i % people.length]!;
  const pass = Math.floor(i / people.length);
  const company = COMPANIES[(i * 7) % COMPANIES.length]!;
  const domain = `${company}${pass % 50}.com.au`;
  const mailDomain = i % 3 === 0 ? FREE_MAIL[i % FREE_MAIL.length]! : domain;
  const given = pass % 2 ? cap(p.given) : p.given;
  const surname = pass % 3 === 1 ? p.surname.toUpperCase() : cap(p.surname);
  const phone = `+61 4${String(10_000_000 + ((i * 7919) % 89_999_999)).slice(0, 8)}`;
  // The candidate contact: the same person most of the time, sometimes a typo or someone else.
  const other = people[(i * 31 + 17) % people.length]!;
  const c = i % 5 === 4 ? other : p;
  const cGiven = i % 7 === 3 ? `${c.given.slice(0, -1)}${c.given.slice(-1) === 'a' ? 'e' : 'a'}` : c.given;
  return [
    `EXT-${i}`,
    given,
    surname,
    `${given} ${surname}`,
    p.dob,
    `${p.given}.${p.surname}${pass}@${mailDomain}`.toLowerCase(),
    phone,
    `${p.streetNumber} ${p.street}`,
    p.suburb,
    p.state.toUpperCase(),
    p.postcode,
    'AU',
    `${cap(company)} Pty Ltd`,
    domain,
    `${cap(cGiven)} ${cap(c.surname)}`,
    cap(cGiven),
    cap(c.surname),
    c.dob,
    `${c.streetNumber} ${c.street}, ${c.suburb}`,
    c.suburb,
    c.state.toUpperCase(),
    c.postcode,
    i % 4 === 0 ? phone.replaceAll(' ', '') : `+61 4${String(20_000_000 + ((i * 104_729) % 79_999_999)).slice(0, 8)}`,
    `${c.given}.${c.surname}@${FREE_MAIL[i % FREE_MAIL.length]}`.toLowerCase(),
  ];
}

interface Files {
  csv: string;
  csvBytes: number;
  /** the same rows as COPY text (tenant, list, data) for the raw baseline */
  copy: string;
  copyBytes: number;
  /** the first rows alone, to warm the API up */
  warm: string;
}

async function writeAll(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Writes the CSV and the same rows as COPY text, both streamed to disk. */
async function generate(dir: string, rows: number): Promise<Files> {
  const people = febrlPeople();
  const header = [...RECOGNISED_COLUMNS];
  const keys = recordKeys(header);
  const prefix = copyPrefix(randomUUID(), randomUUID());
  const csvPath = join(dir, 'people.csv');
  const copyPath = join(dir, 'people.copy');
  const csv = createWriteStream(csvPath);
  const copy = createWriteStream(copyPath);
  let csvChunk = `${header.join(',')}\n`;
  let copyChunk = '';
  for (let i = 0; i < rows; i++) {
    const r = row(people, i);
    csvChunk += `${r.map(csvCell).join(',')}\n`;
    copyChunk += copyLine(prefix, recordJson(keys, r));
    if (csvChunk.length > 1 << 20) {
      await writeAll(csv, csvChunk);
      await writeAll(copy, copyChunk);
      csvChunk = '';
      copyChunk = '';
    }
  }
  await writeAll(csv, csvChunk);
  await writeAll(copy, copyChunk);
  const warmPath = join(dir, 'warm.csv');
  writeFileSync(warmPath, `${header.join(',')}\n${Array.from({ length: 2000 }, (_, i) => `${row(people, i).map(csvCell).join(',')}\n`).join('')}`);
  csv.end();
  copy.end();
  await Promise.all([once(csv, 'finish'), once(copy, 'finish')]);
  return { csv: csvPath, csvBytes: statSync(csvPath).size, copy: copyPath, copyBytes: statSync(copyPath).size, warm: warmPath };
}

// ---------- measurement ----------

/** Resident set size and its peak (VmHWM) of a process, in MB, from /proc. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** POSTs the CSV file as a stream; resolves with the status and the parsed answer. */
function upload(port: number, token: string, file: string, size: number): Promise<{ status: number; body: { entryCount?: number } }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/lists?name=bench',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': String(size) },
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as { entryCount?: number } }));
      res.on('error', reject);
    });
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

/** Counts CPU (cores) of this bench, the API, this database's backends and everything else, until the returned function logs it. */
function watchCpu(env: BenchEnv, apiPid: number | null, label: string): () => void {
  const stop = cpuMeter((pid, cmd) => {
    if (pid === process.pid) return 'bench';
    if (pid === apiPid) return 'api';
    if (cmd.startsWith('postgres:') && cmd.includes(env.databaseName)) return 'postgres';
    return 'other';
  });
  return () => log(`${label} cpu (cores): ${formatCores(stop())}`);
}

/** The raw baseline: the prepared COPY text streamed into a fresh table LIKE list_entries (same columns, identity and indexes). */
async function rawCopy(env: BenchEnv, files: Files): Promise<number> {
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    await client.query('DROP TABLE IF EXISTS bench_raw_entries');
    await client.query('CREATE TABLE bench_raw_entries (LIKE list_entries INCLUDING ALL)');
    await client.query('CHECKPOINT');
    const cpu = watchCpu(env, null, 'raw COPY');
    const started = performance.now();
    await client.query('BEGIN');
    await pipeline(createReadStream(files.copy), client.query(copyFrom(COPY_ENTRIES.replace('list_entries', 'bench_raw_entries'))));
    await client.query('COMMIT');
    const seconds = (performance.now() - started) / 1000;
    cpu();
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_raw_entries');
    if (rows[0]!.n !== ROWS) throw new Error(`raw COPY stored ${rows[0]!.n} rows of ${ROWS}`);
    await client.query('DROP TABLE bench_raw_entries');
    return ROWS / seconds;
  } finally {
    await client.end();
  }
}

/** One run: raw COPY, the API import, raw COPY again. */
async function measure(env: BenchEnv, files: Files): Promise<Result> {
  // Raw COPY before and after the API import, the faster one kept: other load on a shared
  // machine then slows the baseline no more than it slows the import.
  const before = await rawCopy(env, files);
  log(`raw COPY: ${before.toFixed(0)} rows/s`);
  const api = await apiImport(env, files);
  const after = await rawCopy(env, files);
  log(`raw COPY again: ${after.toFixed(0)} rows/s`);
  return { ...api, copyRowsPerS: Math.max(before, after) };
}

/** The same rows through `enrichd api`, sampling the API's memory throughout. */
async function apiImport(env: BenchEnv, files: Files): Promise<Omit<Result, 'copyRowsPerS'>> {

  const port = await freePort();
  const api = spawnNode('enrichd api', [env.build.bin, 'api'], { env: env.enrichdEnv(env.prefix('lists'), { PORT: String(port) }) });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/ready`, api);
    const pid = api.proc.pid!;
    // Warm the route (JIT, pool, auth cache) with a small upload, then measure idle memory.
    const warm = await upload(port, env.token, files.warm, statSync(files.warm).size);
    if (warm.status !== 201) throw new Error(`warm-up import answered ${warm.status}: ${JSON.stringify(warm.body)}`);
    await env.query('TRUNCATE list_entries');
    await env.query('DELETE FROM lists');
    await sleep(500);
    const idleRssMb = memoryOf(pid).rss;
    await env.query('CHECKPOINT');
    let peakSampled = 0;
    const sampler = setInterval(() => {
      try {
        peakSampled = Math.max(peakSampled, memoryOf(pid).rss);
      } catch {
        // the process is gone: the upload fails below
      }
    }, 100);
    const cpu = watchCpu(env, pid, 'API import');
    const started = performance.now();
    const res = await upload(port, env.token, files.csv, files.csvBytes);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    cpu();
    if (res.status !== 201 || res.body.entryCount !== ROWS) throw new Error(`import answered ${res.status}: ${JSON.stringify(res.body)}`);
    const { hwm } = memoryOf(pid);
    log(`API import: ${(ROWS / seconds).toFixed(0)} rows/s (${seconds.toFixed(1)} s); RSS idle ${idleRssMb.toFixed(0)} MB, sampled peak ${peakSampled.toFixed(0)} MB, VmHWM ${hwm.toFixed(0)} MB`);
    await env.query('TRUNCATE list_entries');
    await env.query('DELETE FROM lists');
    return { apiRowsPerS: ROWS / seconds, peakRssMb: Math.max(hwm, peakSampled), idleRssMb };
  } finally {
    await api.stop();
  }
}
