// A supervisor's /metrics: each worker child sends its registry as JSON over IPC, the parent merges.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import type { Metrics } from './metrics.js';

const REQUEST = 'enrichd:metrics:request';
const REPLY = 'enrichd:metrics:reply';
const CHILD_TIMEOUT_MS = 1000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: string;
}

interface MetricsReply {
  type: typeof REPLY;
  id: string;
  metrics: unknown[];
}

const isRequest = (m: unknown): m is MetricsRequest =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === REQUEST && typeof (m as { id?: unknown }).id === 'string';

const isReply = (m: unknown, id: string): m is MetricsReply =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === REPLY && (m as { id?: unknown }).id === id &&
  Array.isArray((m as { metrics?: unknown }).metrics);

/** In a supervised child: answers the parent's metrics requests; returns the function that stops it. */
export function answerMetricsRequests(metrics: Metrics): () => void {
  const send = process.send?.bind(process);
  if (!send) return () => undefined;
  const onMessage = (m: unknown) => {
    if (!isRequest(m)) return;
    void metrics.registry.getMetricsAsJSON().then(
      (json) => send({ type: REPLY, id: m.id, metrics: json } satisfies MetricsReply),
      () => send({ type: REPLY, id: m.id, metrics: [] } satisfies MetricsReply),
    );
  };
  process.on('message', onMessage);
  // Listening refs the channel; the child's lifetime is its own and its parent's signal, not this.
  process.channel?.unref();
  return () => process.off('message', onMessage);
}

/** One child's registry as JSON, or nothing when it does not answer in time (starting, dying). */
function askChild(child: ChildProcess, timeoutMs: number): Promise<unknown[] | null> {
  if (!child.connected) return Promise.resolve(null);
  const id = randomUUID();
  return new Promise((resolve) => {
    const done = (v: unknown[] | null) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(v);
    };
    const onMessage = (m: unknown) => {
      if (isReply(m, id)) done(m.metrics);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    child.on('message', onMessage);
    try {
      child.send({ type: REQUEST, id } satisfies MetricsRequest, (err) => {
        if (err) done(null);
      });
    } catch {
      done(null);
    }
  });
}

/**
 * The parent's own registry merged with every child's that answers: counters and histograms
 * summed, queue-wide gauges by their own aggregator (max), as prom-client's cluster mode does.
 */
export async function aggregateMetrics(own: Metrics, children: Iterable<ChildProcess>, timeoutMs = CHILD_TIMEOUT_MS): Promise<{ contentType: string; body: string }> {
  const [mine, ...theirs] = await Promise.all([own.registry.getMetricsAsJSON(), ...[...children].map((c) => askChild(c, timeoutMs))]);
  const merged = AggregatorRegistry.aggregate([mine, ...theirs.filter((t): t is unknown[] => t !== null)] as object[]);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
