// Group commit: items arriving while a batch is in flight are gathered and run as the next batch.

export interface BatcherOptions<I, O> {
  /** Runs one batch; returns one output per input, in order. */
  run: (items: I[]) => Promise<O[]>;
  /** Most items in one batch. */
  maxBatch: number;
  /** Most batches running at once. */
  maxInFlight: number;
  /**
   * How long a batch waits for company before it starts (default 0: the next turn of the
   * event loop). For writes off the request path, where fewer, larger batches matter more
   * than the moment they land.
   */
  lingerMs?: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Collects items and runs them in batches. A batch starts on the next turn of the event loop,
 * so concurrent callers share it; while maxInFlight batches run, newcomers wait and go together.
 */
export class Batcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly opts: BatcherOptions<I, O>) {}

  /** Adds one item; resolves with its output once its batch has run. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting or running. */
  get size(): number {
    return this.queue.length + this.inFlight;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      this.drain();
    };
    const linger = this.opts.lingerMs ?? 0;
    if (linger > 0 && this.queue.length < this.opts.maxBatch) setTimeout(go, linger).unref();
    else setImmediate(go);
  }

  private drain(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight++;
      void this.runBatch(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async runBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const outputs = await this.opts.run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(outputs[i] as O));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
