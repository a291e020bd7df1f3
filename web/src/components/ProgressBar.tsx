// A labelled progress bar (role progressbar) with its figures as text beside it.
import { fractionDone } from '../lib/progress';
import { count } from '../lib/format';
import type { JobProgress } from '../api/types';

/** A bar for a fraction 0..1, with an accessible name. */
export function Bar({ fraction, label, text }: { fraction: number; label: string; text?: string }) {
  const pct = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-valuetext={text ?? `${pct}%`}>
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

/** A job's progress: the bar, and "processed / total" (with failures when there are any). */
export function JobProgressBar({ progress, label }: { progress: JobProgress; label: string }) {
  const text = `${count(progress.processed)} / ${count(progress.total)}${progress.failed > 0 ? `, ${count(progress.failed)} failed` : ''}`;
  return (
    <div className="progress-cell">
      <Bar fraction={fractionDone(progress)} label={label} text={text} />
      <span className="progress-text">{text}</span>
    </div>
  );
}
