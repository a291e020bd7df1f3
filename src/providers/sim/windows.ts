// Fixed rate windows opened at the first call, as Apollo, PDL and Clearbit count: used and reset per window.

export interface WindowFigures {
  used: number;
  /** epoch ms when this window closes */
  resetAt: number;
}

/** Counts calls in fixed windows of the given sizes (ms); `count` records one call and returns the figures. */
export function createWindows<K extends string>(sizes: Record<K, number>): { count(now: number): Record<K, WindowFigures>; peek(now: number): Record<K, WindowFigures> } {
  const state = new Map<K, WindowFigures>();
  const figures = (now: number, add: number) => {
    const out = {} as Record<K, WindowFigures>;
    for (const key of Object.keys(sizes) as K[]) {
      let w = state.get(key);
      if (!w || now >= w.resetAt) w = { used: 0, resetAt: now + sizes[key] };
      w = { used: w.used + add, resetAt: w.resetAt };
      state.set(key, w);
      out[key] = w;
    }
    return out;
  };
  return { count: (now) => figures(now, 1), peek: (now) => figures(now, 0) };
}
