// The loading, error and empty states every view shows in place of its data.
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

/** A polite "loading" line (announced to screen readers). */
export function Loading({ label }: { label: string }) {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** What went wrong, in the API's words, with a way to try again. */
export function ErrorNotice({ error, onRetry, title = 'Something went wrong' }: { error: Error; onRetry?: () => void; title?: string }) {
  const details = error instanceof ApiError ? error.details.filter((d) => d.message) : [];
  return (
    <div className="state state-error" role="alert">
      <p>
        <strong>{title}:</strong> {error.message}
        {error instanceof ApiError && error.status > 0 ? <span className="muted"> ({error.code})</span> : null}
      </p>
      {details.length > 0 ? (
        <ul>
          {details.slice(0, 10).map((d, i) => (
            <li key={i}>
              {d.path ? <code>{d.path}</code> : null} {d.message}
            </li>
          ))}
        </ul>
      ) : null}
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Nothing to show, and what to do about it. */
export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}
