// RPC/WPC scorer quality on public labelled data, by the protocol in ../shared/data/README.md, and
// its speed from raw entries. Standalone (`node --import tsx bench/rpc-eval.ts [even]`) it prints the
// detailed report; `npm run bench rpc-eval` takes the summary figures from `bench` below.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { columnMap } from '../src/enrich/entry.js';
import { jaroWinkler } from '../src/enrich/names/jaro-winkler.js';
import { soundex } from '../src/enrich/names/soundex.js';
import { normalizeText } from '../src/enrich/names/normalize.js';
import { type RpcSide, compareRpcSides, prepareRpcSide, scoreRpc } from '../src/enrich/steps/rpc-score.js';
import type { BenchModule, Figure } from './lib/report.js';
import { sampleCpu, stealBetween } from './lib/steal.js';

const DATA = new URL('../../shared/data/', import.meta.url);

type Rec = Record<string, string>;

function readFebrl(file: string): Rec[] {
  const lines = readFileSync(new URL(file, DATA), 'utf8').split('\n').filter((l) => l.trim().length > 0);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  return lines.slice(1).map((l) => {
    const cells = l.split(',').map((c) => c.trim());
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

function readCsv(file: string): Rec[] {
  const lines = readFileSync(new URL(file, DATA), 'utf8').split('\n').filter((l) => l.trim().length > 0);
  const header = (lines[0] ?? '').split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(header.map((h, i) => [h, (cells[i] ?? '').trim()]));
  });
}

const recNumber = (id: string): number => Number(/^rec-(\d+)-/.exec(id)?.[1] ?? -1);

// The same columns production entries carry: own side unprefixed, candidate contact_-prefixed.
function febrlEntry(r: Rec, prefix: '' | 'contact_', whole: boolean): Rec {
  const e: Rec = { [prefix + 'first_name']: r.given_name ?? '', [prefix + 'last_name']: r.surname ?? '' };
  if (!whole) return e;
  e[prefix + 'dob'] = r.date_of_birth ?? '';
  e[prefix + 'address'] = [r.street_number, r.address_1, r.address_2].filter((x) => x).join(' ');
  e[prefix + 'city'] = r.suburb ?? '';
  e[prefix + 'postcode'] = r.postcode ?? '';
  e[prefix + 'state'] = r.state ?? '';
  return e;
}

function fakeEntry(r: Rec, prefix: '' | 'contact_', whole: boolean): Rec {
  const e: Rec = { [prefix + 'first_name']: r.first_name ?? '', [prefix + 'last_name']: r.surname ?? '' };
  if (!whole) return e;
  e[prefix + 'dob'] = r.dob ?? '';
  e[prefix + 'city'] = r.city ?? '';
  e[prefix + 'email'] = r.email ?? '';
  return e;
}

interface Scored {
  score: number;
  truth: boolean;
  rpc: boolean;
}

interface Metrics {
  bestF1: number;
  bestAt: number;
  ap: number;
  recallAtP99: number;
  rpcF1: number;
  rpcP: number;
  rpcR: number;
}

/** Ranking metrics over scored pairs; `positives` includes true pairs the candidate rule missed. */
function metrics(pairs: Scored[], positives: number): Metrics {
  const sorted = [...pairs].sort((x, y) => y.score - x.score);
  let tp = 0;
  let fp = 0;
  let bestF1 = 0;
  let bestAt = 100;
  let ap = 0;
  let recallAtP99 = 0;
  for (let i = 0; i < sorted.length; ) {
    const s = sorted[i]?.score ?? 0;
    let groupTp = 0;
    let j = i;
    // Equal scores cannot be separated by any threshold: take them as one group.
    for (; j < sorted.length && sorted[j]?.score === s; j++) {
      if (sorted[j]?.truth) groupTp++;
      else fp++;
    }
    tp += groupTp;
    const p = tp / (tp + fp);
    const r = tp / positives;
    ap += (groupTp / positives) * p;
    const f1 = tp === 0 ? 0 : (2 * p * r) / (p + r);
    if (f1 > bestF1) [bestF1, bestAt] = [f1, s];
    if (p >= 0.99 && r > recallAtP99) recallAtP99 = r;
    i = j;
  }
  let ctp = 0;
  let cfp = 0;
  for (const x of pairs) {
    if (!x.rpc) continue;
    if (x.truth) ctp++;
    else cfp++;
  }
  const rpcP = ctp + cfp === 0 ? 0 : ctp / (ctp + cfp);
  const rpcR = ctp / positives;
  const rpcF1 = ctp === 0 ? 0 : (2 * rpcP * rpcR) / (rpcP + rpcR);
  return { bestF1, bestAt, ap, recallAtP99, rpcF1, rpcP, rpcR };
}

function scorePairs(
  as: RpcSide[], bs: RpcSide[], pairs: Int32Array, truth: (i: number, j: number) => boolean,
): { scored: Scored[]; pairsPerSec: number } {
  const n = pairs.length / 2;
  const scored: Scored[] = new Array<Scored>(n);
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    const i = pairs[2 * k] ?? 0;
    const j = pairs[2 * k + 1] ?? 0;
    const r = compareRpcSides(as[i] as RpcSide, bs[j] as RpcSide);
    const score = 'score' in r ? r.score : 0;
    scored[k] = { score, truth: false, rpc: r.class === 'rpc' };
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  for (let k = 0; k < n; k++) (scored[k] as Scored).truth = truth(pairs[2 * k] ?? 0, pairs[2 * k + 1] ?? 0);
  return { scored, pairsPerSec: n / secs };
}

// End to end from raw entry columns (reading, parsing, scoring), as the step runs per row. The target
// is per core, so the figure is pairs per CPU-second of this process (its GC and compiler threads
// included, which only lowers it): on a shared machine wall time also counts the neighbours' work.
// Wall-clock throughput is printed beside it. Best of a few runs for both.
const SPEED_RUNS = 5;

interface Speed {
  cpu: number;
  wall: number;
}

function rawPairsPerSec(entries: Rec[], score: (e: Rec) => number = scoreRaw): Speed {
  const best: Speed = { cpu: 0, wall: 0 };
  for (let run = 0; run < SPEED_RUNS; run++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let sink = 0;
    for (const e of entries) sink += score(e);
    const c = process.cpuUsage(c0);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = (c.user + c.system) / 1e6;
    if (sink >= 0) {
      best.wall = Math.max(best.wall, entries.length / wall);
      best.cpu = Math.max(best.cpu, entries.length / Math.max(cpu, 1e-6));
    }
  }
  return best;
}

function scoreRaw(e: Rec): number {
  const r = scoreRpc(e);
  return 'score' in r ? r.score : 0;
}

// The README's simplest baseline, Jaro-Winkler per name part, the better of direct and swapped, run
// from the same raw entries: the speed a plain scorer gets on this machine in this run.
function baselineRaw(e: Rec): number {
  const c = columnMap(e);
  const f1 = normalizeText(c.get('first_name') ?? '');
  const l1 = normalizeText(c.get('last_name') ?? '');
  const f2 = normalizeText(c.get('contact_first_name') ?? '');
  const l2 = normalizeText(c.get('contact_last_name') ?? '');
  const direct = jaroWinkler(f1, f2) + jaroWinkler(l1, l2);
  const swapped = jaroWinkler(f1, l2) + jaroWinkler(l1, f2);
  return Math.max(direct, swapped) / 2;
}

// Precision and recall of "score >= t" at a few thresholds, to choose and document the defaults.
function thresholds(pairs: Scored[], positives: number): string {
  return [30, 50, 70, 80, 90, 95].map((t) => {
    let tp = 0;
    let fp = 0;
    for (const x of pairs) {
      if (x.score < t) continue;
      if (x.truth) tp++;
      else fp++;
    }
    return `>=${t}: P ${(tp / Math.max(1, tp + fp)).toFixed(4)} R ${(tp / positives).toFixed(4)}`;
  }).join('  ');
}

function line(label: string, m: Metrics, pairs: number, pps: number, extra = ''): string {
  const f = (x: number): string => x.toFixed(4);
  return `${label.padEnd(34)} bestF1 ${f(m.bestF1)} (score>=${m.bestAt.toFixed(2)})  AP ${f(m.ap)}  R@P>=0.99 ${f(m.recallAtP99)}  ` +
    `rpc F1 ${f(m.rpcF1)} (P ${f(m.rpcP)} R ${f(m.rpcR)})  pairs ${pairs}  ${Math.round(pps).toLocaleString('en')} pairs/s${extra}`;
}

function febrlCandidates(a: Rec[], b: Rec[]): Int32Array {
  const keys = (r: Rec): string[] => {
    const out: string[] = [];
    for (const part of normalizeText(`${r.given_name ?? ''} ${r.surname ?? ''}`).split(/[ ,-]+/)) {
      const s = soundex(part);
      if (s !== '') out.push('s' + s);
    }
    if (r.date_of_birth) out.push('d' + r.date_of_birth);
    if (r.postcode) out.push('p' + r.postcode);
    return out;
  };
  const index = new Map<string, number[]>();
  b.forEach((r, j) => {
    for (const k of new Set(keys(r))) {
      let l = index.get(k);
      if (l === undefined) index.set(k, (l = []));
      l.push(j);
    }
  });
  const out: number[] = [];
  const seen = new Uint8Array(b.length);
  a.forEach((r, i) => {
    const hit: number[] = [];
    for (const k of keys(r)) for (const j of index.get(k) ?? []) if (seen[j] === 0) { seen[j] = 1; hit.push(j); }
    for (const j of hit) { seen[j] = 0; out.push(i, j); }
  });
  return Int32Array.from(out);
}

interface SetResult {
  names: Metrics;
  whole: Metrics;
}

interface FebrlResult extends SetResult {
  rawNames: Speed;
  rawWhole: Speed;
  baselineRaw: Speed;
}

const say = (quiet: boolean, text: string): void => {
  if (!quiet) console.log(text);
};

function evalFebrl(parity: 0 | 1, quiet = false): FebrlResult {
  const keep = (r: Rec): boolean => recNumber(r.rec_id ?? '') % 2 === parity;
  const a = readFebrl('febrl/dataset4a.csv').filter(keep);
  const b = readFebrl('febrl/dataset4b.csv').filter(keep);
  const aN = a.map((r) => recNumber(r.rec_id ?? ''));
  const bN = b.map((r) => recNumber(r.rec_id ?? ''));
  const aSet = new Set(aN);
  const positives = b.filter((r) => /-dup-0$/.test(r.rec_id ?? '') && aSet.has(recNumber(r.rec_id ?? ''))).length;
  const isTrue = (i: number, j: number): boolean => aN[i] === bN[j] && /-dup-0$/.test(b[j]?.rec_id ?? '');
  const pairs = febrlCandidates(a, b);
  const candTrue = (() => { let c = 0; for (let k = 0; k < pairs.length; k += 2) if (isTrue(pairs[k] ?? 0, pairs[k + 1] ?? 0)) c++; return c; })();
  const tag = parity === 1 ? 'odd N (reported)' : 'even N (tuning)';
  say(quiet, `FEBRL4 ${tag}: ${a.length} x ${b.length} records, ${pairs.length / 2} candidate pairs, ${candTrue}/${positives} true pairs among candidates`);
  const out: Partial<FebrlResult> = {};
  for (const whole of [false, true]) {
    const as = a.map((r) => prepareRpcSide(febrlEntry(r, '', whole), ''));
    const bs = b.map((r) => prepareRpcSide(febrlEntry(r, 'contact_', whole), 'contact_'));
    scorePairs(as, bs, pairs.subarray(0, Math.min(pairs.length, 200_000)), isTrue); // JIT warm-up
    const { scored, pairsPerSec } = scorePairs(as, bs, pairs, isTrue);
    const raw: Rec[] = [];
    for (let k = 0; k < Math.min(pairs.length, 400_000); k += 2) {
      raw.push({ ...febrlEntry(a[pairs[k] ?? 0] as Rec, '', whole), ...febrlEntry(b[pairs[k + 1] ?? 0] as Rec, 'contact_', whole) });
    }
    rawPairsPerSec(raw.slice(0, 50_000)); // JIT warm-up
    const rawPps = rawPairsPerSec(raw);
    if (!whole) {
      rawPairsPerSec(raw.slice(0, 50_000), baselineRaw);
      out.baselineRaw = rawPairsPerSec(raw, baselineRaw);
    }
    const m = metrics(scored, positives);
    say(quiet, line(`  ${whole ? 'whole record' : 'names only'}`, m, scored.length, pairsPerSec,
      `; from raw entries ${Math.round(rawPps.cpu).toLocaleString('en')} pairs/CPU-s (wall ${Math.round(rawPps.wall).toLocaleString('en')} pairs/s)`));
    say(quiet, `    ${thresholds(scored, positives)}`);
    if (whole) [out.whole, out.rawWhole] = [m, rawPps];
    else [out.names, out.rawNames] = [m, rawPps];
  }
  if (out.names === undefined || out.whole === undefined || out.rawNames === undefined || out.rawWhole === undefined || out.baselineRaw === undefined) {
    throw new Error('FEBRL4 evaluation left a figure unset');
  }
  return { names: out.names, whole: out.whole, rawNames: out.rawNames, rawWhole: out.rawWhole, baselineRaw: out.baselineRaw };
}

function evalFake(quiet = false): SetResult {
  const recs = readCsv('splink/fake_1000.csv');
  const n = recs.length;
  const pairs = new Int32Array(n * (n - 1));
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) { pairs[k++] = i; pairs[k++] = j; }
  const cluster = recs.map((r) => r.cluster ?? '');
  const isTrue = (i: number, j: number): boolean => cluster[i] === cluster[j];
  let positives = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (isTrue(i, j)) positives++;
  say(quiet, `fake_1000: ${n} records, ${pairs.length / 2} pairs, ${positives} true`);
  const out: Metrics[] = [];
  for (const whole of [false, true]) {
    const as = recs.map((r) => prepareRpcSide(fakeEntry(r, '', whole), ''));
    const bs = recs.map((r) => prepareRpcSide(fakeEntry(r, 'contact_', whole), 'contact_'));
    scorePairs(as, bs, pairs.subarray(0, 200_000), isTrue);
    const { scored, pairsPerSec } = scorePairs(as, bs, pairs, isTrue);
    const m = metrics(scored, positives);
    out.push(m);
    say(quiet, line(`  ${whole ? 'whole record' : 'names only'}`, m, scored.length, pairsPerSec));
    say(quiet, `    ${thresholds(scored, positives)}`);
  }
  return { names: out[0] as Metrics, whole: out[1] as Metrics };
}

// Targets of the rpc_score work, and the baselines of ../shared/data/README.md (same protocol).
const TARGET = { febrlNamesF1: 0.83, febrlWholeF1: 0.998, febrlRecallAtP99: 0.997, rpcGap: 0.02, fakeNamesF1: 0.77, wholePps: 100_000, namesPps: 300_000 };
const BASELINE = { febrlNamesF1: 0.821, febrlWholeF1: 0.9966, febrlRecallAtP99: 0.9968, fakeNamesF1: 0.752 };

/** The figures of one full evaluation (FEBRL4 odd N, fake_1000, speed), with targets and pass/fail. */
function summarise(febrl: FebrlResult, fake: SetResult, steal: number): Figure[] {
  // report.ts prints values under 100 with one decimal, so fractions are shown as percentages.
  const pct = (name: string, value: number, baseline: number, target: number): Figure => ({
    name, unit: '%', value: value * 100, baseline: baseline * 100, target: `>= ${(target * 100).toFixed(1)} %`, pass: value >= target, steal, tries: 1,
  });
  const gap = febrl.whole.bestF1 - febrl.whole.rpcF1;
  return [
    pct('rpc FEBRL4 names-only best F1 (odd N)', febrl.names.bestF1, BASELINE.febrlNamesF1, TARGET.febrlNamesF1),
    pct('rpc FEBRL4 whole-record best F1', febrl.whole.bestF1, BASELINE.febrlWholeF1, TARGET.febrlWholeF1),
    pct('rpc FEBRL4 whole-record R@P>=0.99', febrl.whole.recallAtP99, BASELINE.febrlRecallAtP99, TARGET.febrlRecallAtP99),
    {
      name: 'rpc FEBRL4 best F1 - class-rpc F1 (defaults)', unit: 'pp', value: gap * 100, baseline: Number.NaN,
      target: `<= ${(TARGET.rpcGap * 100).toFixed(1)} pp`, pass: gap <= TARGET.rpcGap, steal, tries: 1,
    },
    pct('rpc fake_1000 names-only best F1', fake.names.bestF1, BASELINE.fakeNamesF1, TARGET.fakeNamesF1),
    {
      name: 'rpc whole-record pairs/s, raw entries, 1 core', unit: 'pairs/s', value: febrl.rawWhole.cpu, baseline: febrl.baselineRaw.cpu,
      target: `>= ${TARGET.wholePps.toLocaleString('en')}`, pass: febrl.rawWhole.cpu >= TARGET.wholePps, steal, tries: SPEED_RUNS,
    },
    {
      name: 'rpc names-only pairs/s, raw entries, 1 core', unit: 'pairs/s', value: febrl.rawNames.cpu, baseline: febrl.baselineRaw.cpu,
      target: `>= ${TARGET.namesPps.toLocaleString('en')}`, pass: febrl.rawNames.cpu >= TARGET.namesPps, steal, tries: SPEED_RUNS,
    },
  ];
}

function printTargets(figures: Figure[]): void {
  console.log(`\ntargets (FEBRL4 odd N and fake_1000; speed in pairs per CPU-second, best of ${SPEED_RUNS} runs; speed baseline: Jaro-Winkler names scorer from the same raw entries)`);
  for (const f of figures) {
    const v = f.unit === 'pairs/s' ? Math.round(f.value).toLocaleString('en') : f.value.toFixed(2);
    const b = Number.isNaN(f.baseline) ? 'n/a' : f.unit === 'pairs/s' ? Math.round(f.baseline).toLocaleString('en') : f.baseline.toFixed(2);
    console.log(`  ${f.name.padEnd(46)} ${(v + ' ' + f.unit).padStart(16)}  baseline ${(b + ' ' + f.unit).padStart(16)}  target ${f.target.padEnd(12)} ${f.pass ? 'PASS' : 'FAIL'}`);
  }
}

/** `npm run bench rpc-eval`: the held-out figures with their targets. */
export const bench: BenchModule = {
  name: 'rpc-eval',
  run(): Promise<Figure[]> {
    const before = sampleCpu();
    const febrl = evalFebrl(1, true);
    const fake = evalFake(true);
    return Promise.resolve(summarise(febrl, fake, stealBetween(before, sampleCpu())));
  },
};

function main(): void {
  const arg = process.argv[2];
  // Tuning looks at even N only; odd N is the held-out figure this script reports by default.
  if (arg === 'even') {
    evalFebrl(0);
    return;
  }
  const before = sampleCpu();
  const febrl = evalFebrl(1);
  const fake = evalFake();
  printTargets(summarise(febrl, fake, stealBetween(before, sampleCpu())));
  const wall = (x: Speed): string => Math.round(x.wall).toLocaleString('en');
  console.log(`  wall clock, best of ${SPEED_RUNS}: whole record ${wall(febrl.rawWhole)}, names only ${wall(febrl.rawNames)}, baseline ${wall(febrl.baselineRaw)} pairs/s`);
}

// Run only as a script: bench/run.ts imports every bench/*.ts to look for a `bench` export.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
