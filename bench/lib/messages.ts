// What bench child processes report over IPC.

/** Job id and the moment its handler (or processor) started, in performance.timeOrigin + performance.now() ms. */
export interface StampReport {
  kind: 'stamps';
  stamps: [string, number][];
}

/** First job start and last completion of a counted run. */
export interface SpanReport {
  kind: 'span';
  first: number;
  last: number;
  count: number;
}

/** A child is ready to take work. */
export interface ReadyReport {
  kind: 'ready';
}

const kindIs =
  <T extends { kind: string }>(kind: T['kind']) =>
  (m: unknown): m is T =>
    typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === kind;

export const isStamps = kindIs<StampReport>('stamps');
export const isSpan = kindIs<SpanReport>('span');
export const isReady = kindIs<ReadyReport>('ready');
