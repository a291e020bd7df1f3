// The token bucket that paces a process's asks of the shared limiter.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket, paceFor } from '../../../../src/providers/limits/pacer.js';

describe('TokenBucket', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('hands out its burst at once, then one token per 1/rate, first come first served', async () => {
    const bucket = new TokenBucket(100, 2, () => Date.now());
    const order: number[] = [];
    const takes = [0, 1, 2, 3].map((i) => bucket.take().then(() => order.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(9);
    expect(order).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(2);
    expect(order).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(10);
    expect(order).toEqual([0, 1, 2, 3]);
    await Promise.all(takes);
  });

  it('saves at most its burst while idle', async () => {
    const bucket = new TokenBucket(1000, 3, () => Date.now());
    await vi.advanceTimersByTimeAsync(1000);
    let done = 0;
    for (let i = 0; i < 5; i++) void bucket.take().then(() => done++);
    await Promise.resolve();
    await Promise.resolve();
    expect(done).toBe(3);
    await vi.advanceTimersByTimeAsync(5);
    expect(done).toBe(5);
  });

  it('paces a per-second limit with 10 ms of it saved', () => {
    const bucket = paceFor(2000);
    expect((bucket as unknown as { burst: number }).burst).toBe(20);
    expect((paceFor(20) as unknown as { burst: number }).burst).toBe(1);
  });
});
