// The stream stages of a CSV import: UTF-8 check, csv-parse with line tracking, records to COPY lines.
// Each stage keeps a bounded amount of data, so an upload of any size streams through in constant memory.
import { Transform, type TransformCallback } from 'node:stream';
import { CsvError, Parser } from 'csv-parse';
import { AppError } from '../errors.js';
import { findHeaderProblem } from './columns.js';
import { COPY_BATCH_CHARS, copyLine, recordJson, recordKeys } from './copy-text.js';

/** The longest record accepted, in bytes: past it a quote was surely left open, and csv-parse would buffer the rest of the file. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** A 400 invalid_csv naming the line (1-based, the header is line 1). */
export function csvError(line: number, message: string): AppError {
  return new AppError('invalid_csv', `Line ${line}: ${message}.`, [{ line, message }]);
}

const NEWLINE = 0x0a;

function countNewlines(chunk: Buffer, end = chunk.length): number {
  let n = 0;
  for (let i = chunk.indexOf(NEWLINE); i !== -1 && i < end; i = chunk.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/** The smallest prefix of chunk that a fresh fatal decoder refuses, i.e. the offset just past the first bad byte. */
function invalidUtf8End(chunk: Buffer): number {
  const refuses = (k: number) => {
    try {
      // stream: a sequence cut by the end of the prefix is not yet an error
      new TextDecoder('utf-8', { fatal: true }).decode(chunk.subarray(0, k), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  // The chunk alone may decode: then the bad sequence straddles the previous chunk's end.
  if (!refuses(chunk.length)) return 0;
  let lo = 1;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (refuses(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Passes bytes through unchanged after checking them with a fatal TextDecoder in stream mode
 * (a sequence split across chunks is fine), and refuses NUL, which PostgreSQL text cannot hold.
 * Counts newline bytes (0x0a never occurs inside a UTF-8 sequence) to name the failing line.
 */
export class Utf8Check extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private lines = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.decoder.decode(chunk, { stream: true });
    } catch {
      const end = invalidUtf8End(chunk);
      callback(csvError(this.lines + countNewlines(chunk, Math.max(0, end - 1)) + 1, 'the text is not valid UTF-8 (save the file as UTF-8)'));
      return;
    }
    const nul = chunk.indexOf(0);
    if (nul !== -1) {
      callback(csvError(this.lines + countNewlines(chunk, nul) + 1, 'contains a NUL character, which cannot be stored'));
      return;
    }
    this.lines += countNewlines(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.decoder.decode();
    } catch {
      callback(csvError(this.lines + 1, 'the text is not valid UTF-8: it ends inside a character'));
      return;
    }
    callback();
  }
}

/**
 * csv-parse's stream parser turned into COPY text: records are written as COPY lines as the
 * parser pushes them, in batches of about COPY_BATCH_CHARS, so no stream hop is paid per
 * record (at a million rows that hop cost as much as the parsing). The first record is the
 * header: it names the keys of every entry's JSON object, unchanged.
 *
 * Records are pushed synchronously while parsing, so the line on which the last one ended is
 * known when the parser fails: an unclosed quote is only seen at the end of the file, and the
 * record it belongs to started on the line after that one.
 */
export class CsvToCopy extends Parser {
  header: string[] | null = null;
  count = 0;
  lastRecordLine = 0;
  private keys: string[] = [];
  private batch = '';
  private failure: AppError | null = null;

  constructor(private readonly prefix: string) {
    super({ bom: true, skip_empty_lines: true, max_record_size: MAX_RECORD_BYTES });
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) {
      this.flushBatch();
      return super.push(null, encoding);
    }
    if (!Array.isArray(chunk)) return super.push(chunk, encoding);
    this.lastRecordLine = this.info.lines;
    if (this.failure) return false;
    const record = chunk as string[];
    if (this.header === null) {
      const problem = findHeaderProblem(record);
      if (problem) {
        this.failure = csvError(1, `the header is not usable: ${problem.message}`);
        return false;
      }
      this.header = record;
      this.keys = recordKeys(record);
      return true;
    }
    this.count++;
    this.batch += copyLine(this.prefix, recordJson(this.keys, record));
    return this.batch.length >= COPY_BATCH_CHARS ? this.flushBatch() : true;
  }

  private flushBatch(): boolean {
    if (this.batch === '') return true;
    const full = this.batch;
    this.batch = '';
    return super.push(full);
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: TransformCallback): void {
    super._transform(chunk, encoding, (err?: Error | null) => callback(this.failure ?? err));
  }

  override _flush(callback: TransformCallback): void {
    super._flush((err?: Error | null) => {
      if (err || this.failure) return callback(this.failure ?? err);
      if (this.header === null) return callback(csvError(1, 'the file is empty; a header row naming the columns is expected'));
      if (this.count === 0) return callback(csvError(2, 'the file has a header but no rows; at least one row is expected'));
      this.flushBatch();
      callback();
    });
  }
}

/** The contract's invalid_csv for one of csv-parse's errors; anything else is returned as it came. */
export function toCsvError(err: unknown, parser: CsvToCopy): unknown {
  if (!(err instanceof CsvError)) return err;
  const reported = typeof err.lines === 'number' ? err.lines : parser.lastRecordLine + 1;
  const recordStart = parser.lastRecordLine + 1;
  switch (err.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH': {
      const m = /expect (\d+), got (\d+)/.exec(err.message);
      return csvError(reported, m ? `the row has ${m[2]} fields where the header has ${m[1]}` : 'the row has a different number of fields than the header');
    }
    case 'CSV_QUOTE_NOT_CLOSED':
      return csvError(recordStart, 'a quoted field that starts in this row is never closed');
    case 'CSV_MAX_RECORD_SIZE':
      return csvError(recordStart, `the row starting here is longer than ${MAX_RECORD_BYTES / 1024 / 1024} MiB; is a quote left open?`);
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'INVALID_OPENING_QUOTE':
      return csvError(reported, 'a stray quote: quote the whole field and double the quotes inside it ("")');
    default:
      return csvError(reported, err.message.replace(/\s+at line \d+.*$/, ''));
  }
}
