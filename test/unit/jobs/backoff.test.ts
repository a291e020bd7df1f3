// Full-jitter backoff: delays in [0, ceiling], ceiling = base * multiplier^(n-1) capped, never shrinking.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BackoffPolicy, backoffCeiling, backoffDelay } from '../../../src/jobs/backoff.js';

const policy: BackoffPolicy = { baseDelayMs: 1000, maxDelayMs: 300_000, multiplier: 2 };
const justBelowOne = 1 - Number.EPSILON / 2;

describe('backoffCeiling', () => {
  it('grows by the multiplier from the base', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffCeiling(policy, n))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(backoffCeiling({ ...policy, multiplier: 3 }, 3)).toBe(9000);
    expect(backoffCeiling({ ...policy, multiplier: 1 }, 10)).toBe(1000);
  });

  it('is capped at maxDelayMs, also for huge retry numbers', () => {
    expect(backoffCeiling(policy, 9)).toBe(256_000);
    expect(backoffCeiling(policy, 10)).toBe(300_000);
    expect(backoffCeiling(policy, 10_000)).toBe(300_000);
    expect(backoffCeiling({ ...policy, multiplier: 100 }, 1_000_000)).toBe(300_000);
  });

  it('treats retry 0 and below as the first retry', () => {
    expect(backoffCeiling(policy, 0)).toBe(1000);
    expect(backoffCeiling(policy, -3)).toBe(1000);
  });

  it('stays 0 with a zero base, however many retries', () => {
    const zero = { ...policy, baseDelayMs: 0 };
    expect(backoffCeiling(zero, 1)).toBe(0);
    expect(backoffCeiling(zero, 5000)).toBe(0);
  });

  it('never decreases as retries grow, and never exceeds the cap (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.double({ min: 1, max: 100, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        (base, max, multiplier, n) => {
          const p = { baseDelayMs: base, maxDelayMs: max, multiplier };
          const a = backoffCeiling(p, n);
          const b = backoffCeiling(p, n + 1);
          expect(b).toBeGreaterThanOrEqual(a);
          expect(a).toBeLessThanOrEqual(max);
          expect(a).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('backoffDelay', () => {
  it('spans the full jitter range [0, ceiling] with an injected random', () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => justBelowOne)).toBe(4000);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(2000);
    expect(backoffDelay(policy, 50, () => justBelowOne)).toBe(300_000);
  });

  it('returns whole milliseconds within [0, ceiling] for any random in [0, 1) (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (base, max, multiplier, n, r) => {
          const p = { baseDelayMs: base, maxDelayMs: max, multiplier };
          const d = backoffDelay(p, n, () => r);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(backoffCeiling(p, n));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('uses Math.random by default and stays in range', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(policy, 2);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });
});
