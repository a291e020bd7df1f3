// Metrics: throughput and failures over the last hour, success and error rate, queue depth and
// oldest waiting age, p50/p95 by type, workers with their heartbeat, provider usage and credits.
import { useEffect } from 'react';
import type { JobMetrics, ProviderUsage } from '../../api/types';
import { useServices, useStreamOpen } from '../../app-context';
import { Empty, ErrorNotice, Loading } from '../../components/States';
import { age, count, duration, percent } from '../../lib/format';
import { useLoad } from '../../lib/use-load';
import { useNow } from '../../lib/use-now';
import { ThroughputChart } from './ThroughputChart';

const REFRESH_MS = 10_000;

function Stat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>
        <span className="stat-value">{value}</span>
        {hint ? <span className="stat-hint">{hint}</span> : null}
      </dd>
    </div>
  );
}

/** The metrics view, refreshed every 10 s. */
export function MetricsView() {
  const { api } = useServices();
  const now = useNow(5_000);
  const metrics = useLoad((signal) => api.get<JobMetrics>('/v1/enrichment/jobs/metrics?window=60', signal), []);
  const usage = useLoad((signal) => api.get<{ items: ProviderUsage[] }>('/v1/usage', signal), []);
  const reloadMetrics = metrics.reload;
  const reloadUsage = usage.reload;
  useEffect(() => {
    const t = setInterval(() => {
      reloadMetrics();
      reloadUsage();
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [reloadMetrics, reloadUsage]);
  useStreamOpen(reloadMetrics);
  const m = metrics.data;
  const durations = m ? Object.entries(m.durations) : [];
  const credits = usage.data?.items.reduce((a, u) => a + u.credits, 0) ?? 0;
  return (
    <>
      <div className="view-head">
        <h1 tabIndex={-1}>Metrics</h1>
        <p className="muted">The last 60 minutes, refreshed every 10 s.</p>
      </div>
      {metrics.error ? <ErrorNotice error={metrics.error} title="The metrics could not be read" onRetry={metrics.reload} /> : null}
      {!m && !metrics.error ? <Loading label="Loading metrics…" /> : null}
      {m ? (
        <>
          <section className="card" aria-labelledby="throughput-title">
            <h2 id="throughput-title">Throughput and failures</h2>
            {m.series.every((s) => s.completed + s.failed === 0) ? <Empty>No job ended in the last hour.</Empty> : <ThroughputChart series={m.series} />}
          </section>
          <section className="card" aria-labelledby="health-title">
            <h2 id="health-title">Health</h2>
            <dl className="stats">
              <Stat label="Success rate" value={percent(m.successRate)} hint="of jobs ended in the window" />
              <Stat label="Error rate" value={percent(m.errorRate)} />
              <Stat label="Throughput" value={`${m.throughput.last5m.toFixed(1)}/min`} hint={`last 5 min; ${m.throughput.last60m.toFixed(1)}/min over the hour`} />
              <Stat label="Waiting" value={count(m.queueDepth.waiting)} hint="due, not started" />
              <Stat label="Active" value={count(m.queueDepth.active)} />
              <Stat label="Delayed" value={count(m.queueDepth.delayed)} hint="scheduled or backing off" />
              <Stat
                label="Oldest waiting"
                value={m.oldestWaitingSeconds === undefined ? 'n/a' : m.oldestWaitingSeconds === null ? 'none' : duration(m.oldestWaitingSeconds)}
              />
            </dl>
          </section>
          <div className="grid">
            <section className="card" aria-labelledby="durations-title">
              <h2 id="durations-title">Duration by type</h2>
              {durations.length === 0 ? (
                <Empty>No job completed in the window.</Empty>
              ) : (
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Type</th>
                        <th scope="col">p50</th>
                        <th scope="col">p95</th>
                      </tr>
                    </thead>
                    <tbody>
                      {durations.map(([type, d]) => (
                        <tr key={type}>
                          <td>{type}</td>
                          <td>{duration(d.p50 / 1000)}</td>
                          <td>{duration(d.p95 / 1000)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
            <section className="card" aria-labelledby="workers-title">
              <h2 id="workers-title">Workers</h2>
              {m.workers.length === 0 ? (
                <Empty>No worker alive: jobs wait until one starts (enrichd worker, or enrichd start).</Empty>
              ) : (
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Worker</th>
                        <th scope="col">In flight</th>
                        <th scope="col">Processed</th>
                        <th scope="col">Heartbeat</th>
                      </tr>
                    </thead>
                    <tbody>
                      {m.workers.map((w) => (
                        <tr key={w.id}>
                          <td className="wrap">
                            {w.host} <span className="muted">pid {w.pid}</span>
                          </td>
                          <td>{w.inFlight}</td>
                          <td>{count(w.processed)}</td>
                          <td>
                            <time dateTime={w.lastHeartbeatAt}>{age(w.lastHeartbeatAt, now)} ago</time>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          </div>
        </>
      ) : null}
      <section className="card" aria-labelledby="usage-title">
        <h2 id="usage-title">Provider usage and credits</h2>
        {usage.error ? <ErrorNotice error={usage.error} title="Usage could not be read" onRetry={usage.reload} /> : null}
        {!usage.data && !usage.error ? <Loading label="Loading usage…" /> : null}
        {usage.data && usage.data.items.length === 0 ? <Empty>No provider has been called: plans without a provider step spend no credits.</Empty> : null}
        {usage.data && usage.data.items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Cache hits</th>
                  <th scope="col">Credits</th>
                </tr>
              </thead>
              <tbody>
                {usage.data.items.map((u) => (
                  <tr key={u.provider}>
                    <td>{u.provider}</td>
                    <td>{count(u.calls)}</td>
                    <td>{count(u.cacheHits)}</td>
                    <td>{count(u.credits)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row" colSpan={3}>
                    Total credits
                  </th>
                  <td>{count(credits)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
        ) : null}
      </section>
    </>
  );
}
