// List import benchmark (11a): a 1,000,000-row CSV streamed through POST /v1/lists, beside a raw
// COPY of the same rows into a table of the same layout in the same run, and the API's peak RSS.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
import { febrlEntry } from './lib/people.js';
import { freePort, spawnNode, stopAll, waitForHttp } from './lib/proc.js';
import { memoryOf } from './lib/procfs.js';
import { type BenchModule, type Figure } from './lib/report.js';
import { type Measured, withStealRetry } from './lib/steal.js';

const ROWS = Number(process.env.BENCH_LIST_ROWS ?? 1_000_000);
const RATIO_TARGET = 0.5;
const RSS_TARGET_MB = 300;

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

const csvCell = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/** Row i in the order of the header: a FEBRL-like person with every recognised column filled. */
function row(header: readonly string[], i: number): string[] {
  const e = febrlEntry(i);
  return header.map((h) => e[h] ?? '');
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
    const r = row(header, i);
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
  writeFileSync(warmPath, `${header.join(',')}\n${Array.from({ length: 2000 }, (_, i) => `${row(header, i).map(csvCell).join(',')}\n`).join('')}`);
  csv.end();
  copy.end();
  await Promise.all([once(csv, 'finish'), once(copy, 'finish')]);
  return { csv: csvPath, csvBytes: statSync(csvPath).size, copy: copyPath, copyBytes: statSync(copyPath).size, warm: warmPath };
}

// ---------- measurement ----------

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
