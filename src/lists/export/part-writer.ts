// Cuts a stream of bytes into fixed-size parts and hands each to a save function, so an
// export of any length holds at most about one part in memory.

/** The size of every part but the last: 1 MiB. */
export const PART_SIZE = 1024 * 1024;

/** Saves one part (numbered from 0); the writer waits for it before buffering more. */
export type SavePart = (part: number, data: Buffer) => Promise<void>;

/**
 * Buffers written bytes and saves them in parts of exactly `partSize` bytes (the last may be
 * shorter). Rows may straddle two parts: a download concatenates the parts in order.
 */
export class PartWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private nextPart = 0;
  private total = 0;

  constructor(
    private readonly save: SavePart,
    private readonly partSize = PART_SIZE,
  ) {
    if (!Number.isInteger(partSize) || partSize < 1) throw new Error('partSize must be a positive integer');
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.total;
  }

  /** Parts saved so far. */
  get parts(): number {
    return this.nextPart;
  }

  /** Appends text (UTF-8); saves every full part it completes. */
  async write(chunk: string | Buffer): Promise<void> {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (buf.length === 0) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    this.total += buf.length;
    while (this.pendingBytes >= this.partSize) await this.saveNext(this.partSize);
  }

  /** Saves what is left as the last part (nothing when no byte is pending). */
  async finish(): Promise<void> {
    if (this.pendingBytes > 0) await this.saveNext(this.pendingBytes);
  }

  private async saveNext(size: number): Promise<void> {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    // Copies, so the saved part does not pin a larger buffer it was sliced from.
    const part = Buffer.from(all.subarray(0, size));
    const rest = all.subarray(size);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    await this.save(this.nextPart++, part);
  }
}
