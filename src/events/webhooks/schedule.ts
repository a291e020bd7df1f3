// When a failed delivery is tried again: the schedule is data, so it is documented and tested as data.

/**
 * Delays before attempts 2, 3, ... (ms), at RETRY_BASE_DELAY=1000. Eleven attempts over about
 * 47 hours, so a receiver that is down for a day still gets every event; then `failed`.
 */
export const WEBHOOK_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000, // 5 s
  30_000, // 30 s
  2 * 60_000, // 2 min
  10 * 60_000, // 10 min
  30 * 60_000, // 30 min
  60 * 60_000, // 1 h
  3 * 60 * 60_000, // 3 h
  6 * 60 * 60_000, // 6 h
  12 * 60 * 60_000, // 12 h
  24 * 60 * 60_000, // 24 h
];

/** The base delay the schedule above is written for; RETRY_BASE_DELAY scales it (tests run it in seconds). */
export const SCHEDULE_BASE_DELAY_MS = 1000;

/** Total attempts a delivery gets: the first and one per scheduled delay. */
export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_SCHEDULE_MS.length + 1;

/**
 * The delay before the next attempt after `attemptsMade` attempts, or null when none is left.
 * Scaled by baseDelayMs / 1000, with up to 10% jitter so that deliveries failed together do
 * not all come back in the same instant.
 */
export function nextRetryDelayMs(attemptsMade: number, baseDelayMs: number, random: () => number = Math.random): number | null {
  const delay = WEBHOOK_RETRY_SCHEDULE_MS[attemptsMade - 1];
  if (delay === undefined || attemptsMade < 1) return null;
  const scaled = (delay * baseDelayMs) / SCHEDULE_BASE_DELAY_MS;
  return Math.round(scaled * (1 + 0.1 * random()));
}
