// One live stream per tab, many listeners: views subscribe to job events and to reconnections.
import type { JobEventMessage } from '../api/types';
import type { StreamState } from './event-stream';

export interface EventHub {
  /** calls fn for every job event; returns the unsubscribe */
  onJob(fn: (e: JobEventMessage) => void): () => void;
  /** calls fn on each state change ('open' after every reconnection) */
  onState(fn: (s: StreamState) => void): () => void;
  emitJob(e: JobEventMessage): void;
  emitState(s: StreamState): void;
  readonly state: StreamState;
}

/** A hub with no stream attached yet. */
export function createEventHub(): EventHub {
  const jobs = new Set<(e: JobEventMessage) => void>();
  const states = new Set<(s: StreamState) => void>();
  let state: StreamState = 'connecting';
  return {
    onJob(fn) {
      jobs.add(fn);
      return () => jobs.delete(fn);
    },
    onState(fn) {
      states.add(fn);
      return () => states.delete(fn);
    },
    emitJob(e) {
      for (const fn of jobs) fn(e);
    },
    emitState(s) {
      state = s;
      for (const fn of states) fn(s);
    },
    get state() {
      return state;
    },
  };
}
