// @vitest-environment node
// Rate and ETA of a list job's progress.
import { describe, expect, it } from 'vitest';
import { addSample, etaSeconds, fractionDone, progressRate } from '../../web/src/lib/progress';
import { age, duration, percent } from '../../web/src/lib/format';

const progress = (processed: number, total = 1000) => ({ total, processed, succeeded: processed, failed: 0 });

describe('progress rate and ETA', () => {
  it('measures the rate over the sampled window', () => {
    let s = addSample([], { at: 0, processed: 0 });
    s = addSample(s, { at: 1_000, processed: 100 });
    s = addSample(s, { at: 4_000, processed: 400 });
    const rate = progressRate(s, { processed: 400, startedAt: null, now: 4_000 });
    expect(rate).toBe(100);
    expect(etaSeconds(progress(400), rate)).toBe(6);
  });

  it('drops samples older than the window, and starts over when progress goes back (a retry)', () => {
    let s = addSample([], { at: 0, processed: 0 });
    s = addSample(s, { at: 40_000, processed: 100 });
    expect(s).toEqual([{ at: 0, processed: 0 }, { at: 40_000, processed: 100 }]);
    s = addSample(s, { at: 50_000, processed: 300 });
    expect(s.map((x) => x.at)).toEqual([40_000, 50_000]);
    expect(addSample(s, { at: 51_000, processed: 10 })).toEqual([{ at: 51_000, processed: 10 }]);
  });

  it('falls back to the average since the start when the window is too short', () => {
    const startedAt = new Date(0).toISOString();
    const rate = progressRate([{ at: 9_500, processed: 500 }], { processed: 500, startedAt, now: 10_000 });
    expect(rate).toBe(50);
    expect(progressRate([], { processed: 0, startedAt, now: 10_000 })).toBeNull();
    expect(progressRate([], { processed: 10, startedAt: null, now: 10_000 })).toBeNull();
  });

  it('says 0 when done and unknown without a rate', () => {
    expect(etaSeconds(progress(1000), null)).toBe(0);
    expect(etaSeconds(progress(10), null)).toBeNull();
    expect(etaSeconds(progress(10), 0)).toBeNull();
    expect(fractionDone(progress(250))).toBe(0.25);
    expect(fractionDone({ total: 0, processed: 0, succeeded: 0, failed: 0 })).toBe(0);
  });

  it('formats durations, ages and rates', () => {
    expect(duration(0.25)).toBe('250 ms');
    expect(duration(42)).toBe('42 s');
    expect(duration(303)).toBe('5 min 3 s');
    expect(duration(3 * 3600 + 240)).toBe('3 h 4 min');
    expect(duration(2 * 86400 + 3 * 3600)).toBe('2 d 3 h');
    expect(age(new Date(0).toISOString(), 90_000)).toBe('1 min 30 s');
    expect(percent(0.1234)).toBe('12.3%');
    expect(percent(null)).toBe('-');
  });
});
