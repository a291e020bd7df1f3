// What every signed-in view reaches: the API client and the live event hub.
import { createContext, useContext, useEffect, useEffectEvent } from 'react';
import type { Api } from './api/client';
import type { JobEventMessage } from './api/types';
import type { EventHub } from './live/event-hub';

export interface AppServices {
  api: Api;
  hub: EventHub;
}

export const AppContext = createContext<AppServices | null>(null);

/** The signed-in tab's services (only inside the signed-in shell). */
export function useServices(): AppServices {
  const s = useContext(AppContext);
  if (!s) throw new Error('useServices outside the signed-in shell');
  return s;
}

/** Calls fn for each live job event while the component is mounted (the latest fn). */
export function useJobEvents(fn: (e: JobEventMessage) => void): void {
  const { hub } = useServices();
  const onJob = useEffectEvent(fn);
  useEffect(() => hub.onJob((e) => onJob(e)), [hub]);
}

/** Calls fn each time the live stream (re)opens: what changed during a gap is read again. */
export function useStreamOpen(fn: () => void): void {
  const { hub } = useServices();
  const onOpen = useEffectEvent(fn);
  useEffect(
    () =>
      hub.onState((s) => {
        if (s === 'open') onOpen();
      }),
    [hub],
  );
}
