// Numbers and times as the dashboard shows them. The Intl formatters are made once: building
// one per call costs far more than formatting (500 rows would pay it a thousand times).

const NUMBER = new Intl.NumberFormat('en-US');
const DATE_TIME = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
const HOUR_MINUTE = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });

/** "just now", "42 s", "5 min", "3 h", "2 d": how long ago an ISO time was, from now (ms). */
export function age(iso: string, now: number): string {
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  return duration(s);
}

/** A span in seconds as "850 ms", "42 s", "5 min 3 s", "3 h 4 min", "2 d 3 h". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) {
    const s = Math.round(seconds - m * 60);
    return s === 0 ? `${m} min` : `${m} min ${s} s`;
  }
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

/** 0.1234 -> "12.3%"; null -> "-". */
export function percent(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return '-';
  return `${(fraction * 100).toFixed(fraction === 1 || fraction === 0 ? 0 : 1)}%`;
}

/** 1234567 -> "1,234,567". */
export function count(n: number): string {
  return NUMBER.format(n);
}

/** Bytes as "512 B", "1.5 KiB", "3.2 MiB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

/** An ISO time in the reader's locale, to the second. */
export function dateTime(iso: string): string {
  return DATE_TIME.format(new Date(iso));
}

/** The first 8 characters of an id, as rows show it. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** An ISO time as "14:05" in the reader's time zone. */
export function hourMinute(iso: string): string {
  return HOUR_MINUTE.format(new Date(iso));
}
