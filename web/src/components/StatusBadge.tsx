// A job status as a coloured label (the word itself carries the meaning; colour only helps).
import type { JobStatus } from '../api/types';

/** The status word in its colour. */
export function StatusBadge({ status }: { status: JobStatus | string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}
