// The current time, refreshed on an interval, for ages and heartbeats that move on their own.
import { useEffect, useState } from 'react';

/** Date.now(), re-read every intervalMs. */
export function useNow(intervalMs = 10_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}
