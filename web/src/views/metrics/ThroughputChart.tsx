// Completed and failed jobs per minute over the window, drawn as stacked SVG bars (no chart
// library: a few dozen rectangles). The same figures are in a table for screen readers.
import { useLayoutEffect, useRef, useState } from 'react';
import type { JobMetrics } from '../../api/types';
import { hourMinute } from '../../lib/format';

const H = 220;
const PAD = { top: 12, right: 8, bottom: 28, left: 40 };

/** A "nice" axis maximum at or above n (1, 2, 5 x 10^k). */
export function niceMax(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}


/** The per-minute chart of a metrics series. */
export function ThroughputChart({ series }: { series: JobMetrics['series'] }) {
  // Drawn at the width it is shown at, so text and bars keep their proportions on any screen.
  const box = useRef<HTMLDivElement>(null);
  const [W, setW] = useState(720);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver((entries) => {
      const width = entries[0]?.contentRect.width ?? 0;
      if (width > 0) setW(Math.max(240, Math.round(width)));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const max = niceMax(Math.max(0, ...series.map((s) => s.completed + s.failed)));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const step = series.length > 0 ? innerW / series.length : innerW;
  const barW = Math.max(1, step * 0.8);
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const completed = series.reduce((a, s) => a + s.completed, 0);
  const failed = series.reduce((a, s) => a + s.failed, 0);
  const ticks = Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max];
  const labelEvery = Math.max(1, Math.ceil(series.length / Math.max(2, Math.floor(W / 110))));
  return (
    <figure className="chart">
      <div ref={box} className="chart-box">
        <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={`Jobs ended per minute over the last ${series.length} minutes: ${completed} completed, ${failed} failed`}>
          {ticks.map((t) => (
            <g key={t}>
              <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="grid-line" />
              <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="axis">
                {t}
              </text>
            </g>
          ))}
          {series.map((s, i) => {
            const x = PAD.left + i * step + (step - barW) / 2;
            return (
              <g key={s.at}>
                {s.completed > 0 ? <rect x={x} y={y(s.completed)} width={barW} height={y(0) - y(s.completed)} className="bar-completed" /> : null}
                {s.failed > 0 ? <rect x={x} y={y(s.completed + s.failed)} width={barW} height={y(0) - y(s.failed)} className="bar-failed" /> : null}
                {i % labelEvery === 0 ? (
                  <text x={x + barW / 2} y={H - 8} textAnchor="middle" className="axis">
                    {hourMinute(s.at)}
                  </text>
                ) : null}
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption className="legend">
        <span className="swatch swatch-completed" aria-hidden="true" /> completed ({completed}) <span className="swatch swatch-failed" aria-hidden="true" /> failed ({failed})
      </figcaption>
    </figure>
  );
}
