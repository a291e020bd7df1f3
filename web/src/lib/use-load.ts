// Loads data for a view with loading and error states, and reloads on demand.
import { useCallback, useEffect, useEffectEvent, useState } from 'react';

export interface Loaded<T> {
  data: T | null;
  error: Error | null;
  /** a read for the current deps is under way */
  loading: boolean;
  /** reads again; the shown data stays until the new answer comes */
  reload(): void;
  /** replaces the data in place (a live event) */
  set(update: (prev: T | null) => T | null): void;
}

interface State<T> {
  /** the deps (and reload count) the data was read for */
  key: string | null;
  data: T | null;
  error: Error | null;
}

/** Runs load on mount and whenever deps (strings, numbers) change; a stale answer is dropped. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly (string | number | null)[]): Loaded<T> {
  const [tick, setTick] = useState(0);
  const key = JSON.stringify([...deps, tick]);
  const [state, setState] = useState<State<T>>({ key: null, data: null, error: null });
  const run = useEffectEvent(load);
  useEffect(() => {
    const controller = new AbortController();
    run(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ key, data, error: null });
      },
      (err: Error) => {
        if (controller.signal.aborted || err.name === 'AbortError') return;
        setState((s) => ({ key, data: s.data, error: err }));
      },
    );
    return () => controller.abort();
  }, [key]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((update: (prev: T | null) => T | null) => setState((s) => ({ ...s, data: update(s.data) })), []);
  return { data: state.data, error: state.error, loading: state.key !== key, reload, set };
}
