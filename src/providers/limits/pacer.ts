// A process's own pace for asking the shared limiter: a token bucket per provider and endpoint.
// The shared windows decide how many calls may start; the pace decides how evenly this
// process asks, so that the slots it is granted (and the calls that follow them) never leave
// as one large burst. A burst leaves over as long as its calls take to write, and at the
// provider its last calls arrive later than the limiter's margin allows (seen in the
// providers bench: 2,027 calls in one second against 2,000).

/** Tokens at `ratePerSecond`, at most `burst` saved; take() waits for one, first come first served. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Resolves when a token is taken. */
  take(): Promise<void> {
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSecond) / 1000);
    this.last = t;
  }

  private schedule(): void {
    if (this.timer) return;
    // Never sooner than MIN_TICK_MS: each tick hands out what accrued, a few tokens at a time.
    const ms = Math.max(MIN_TICK_MS, ((1 - this.tokens) * 1000) / this.ratePerSecond);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiters.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiters.shift()!();
      }
      if (this.waiters.length > 0) this.schedule();
    }, ms);
    this.timer.unref();
  }
}

const MIN_TICK_MS = 5;

/** The bucket for a per-second limit: its rate, and 10 ms of it saved at most. */
export function paceFor(perSecond: number): TokenBucket {
  return new TokenBucket(perSecond, Math.max(1, Math.ceil(perSecond / 100)));
}
