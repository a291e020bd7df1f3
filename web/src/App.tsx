// The app: signed out, the sign-in form; signed in, the shell with its views and one live stream.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createApi } from './api/client';
import { AppContext } from './app-context';
import { clearToken, consumeFragmentToken, readClaims, saveToken } from './auth/token';
import { createEventHub } from './live/event-hub';
import { type StreamState, openEventStream } from './live/event-stream';
import { type Route, parseRoute } from './lib/route';
import { JobDetail } from './views/detail/JobDetail';
import { JobsView } from './views/jobs/JobsView';
import { MetricsView } from './views/metrics/MetricsView';
import { SignIn } from './views/SignIn';
import { WizardView } from './views/wizard/WizardView';

const REFUSED = 'The server refused the token (401): it may have expired or been signed with another secret. Sign in again.';

/** The whole app. The token fragment is consumed before anything else reads the address. */
export function App() {
  const [token, setToken] = useState<string | null>(() => consumeFragmentToken({ location: window.location, history: window.history, storage: window.sessionStorage }));
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = useCallback((reason: string | null) => {
    clearToken(window.sessionStorage);
    setToken(null);
    setNotice(reason);
  }, []);
  // A sign-in link opened in a tab that is already open signs it in too.
  useEffect(() => {
    const onHash = () => {
      if (!window.location.hash.includes('token=')) return;
      const t = consumeFragmentToken({ location: window.location, history: window.history, storage: window.sessionStorage });
      if (t) {
        setToken(t);
        setNotice(null);
      }
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  if (!token) {
    return (
      <SignIn
        notice={notice}
        onSignIn={(t) => {
          saveToken(window.sessionStorage, t);
          setNotice(null);
          setToken(t);
        }}
      />
    );
  }
  return <Shell key={token} token={token} onSignOut={signOut} />;
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

const NAV = [
  { href: '#/jobs', label: 'Jobs', names: ['jobs', 'job'] },
  { href: '#/metrics', label: 'Metrics', names: ['metrics'] },
  { href: '#/wizard', label: 'Lists & plans', names: ['wizard'] },
];

const STREAM_LABEL: Record<StreamState, string> = { connecting: 'Connecting…', open: 'Live', reconnecting: 'Reconnecting…', closed: 'Offline' };

/** The signed-in shell: header, navigation, live state, and the routed view. */
function Shell({ token, onSignOut }: { token: string; onSignOut(reason: string | null): void }) {
  const refused = useCallback(() => onSignOut(REFUSED), [onSignOut]);
  const services = useMemo(() => ({ api: createApi(token, refused), hub: createEventHub() }), [token, refused]);
  const [stream, setStream] = useState<StreamState>('connecting');
  useEffect(() => {
    const stopHub = services.hub.onState(setStream);
    const close = openEventStream({
      url: '/v1/events',
      token,
      onEvent: (e) => services.hub.emitJob(e),
      onState: (s) => services.hub.emitState(s),
      onUnauthorized: refused,
    });
    return () => {
      stopHub();
      close();
    };
  }, [services, token, refused]);
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  // After navigation the view's heading takes focus, so keyboard and screen reader users start there.
  const first = useRef(true);
  const routeKey = route.name === 'job' ? `job/${route.id}` : route.name;
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [routeKey]);
  const claims = readClaims(token);
  return (
    <AppContext.Provider value={services}>
      <a className="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        main.current?.focus();
      }}>
        Skip to content
      </a>
      <header className="top">
        <div className="brand">enrichd</div>
        <nav aria-label="Views">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <a href={n.href} aria-current={n.names.includes(route.name) ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="session">
          <span className={`live live-${stream}`} role="status" title="Live updates from GET /v1/events">
            <span className="dot" aria-hidden="true" />
            {STREAM_LABEL[stream]}
          </span>
          {claims?.tenantId ? <span className="tenant muted" title={`tenant ${claims.tenantId}`}>tenant {claims.tenantId.slice(0, 8)}</span> : null}
          <button type="button" onClick={() => onSignOut(null)}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {route.name === 'jobs' ? <JobsView params={route.params} /> : null}
        {route.name === 'job' ? <JobDetail key={route.id} id={route.id} /> : null}
        {route.name === 'metrics' ? <MetricsView /> : null}
        {route.name === 'wizard' ? <WizardView /> : null}
        {route.name === 'not-found' ? (
          <>
            <h1 tabIndex={-1}>Not found</h1>
            <p>
              Nothing lives at <code>{route.path}</code>. Go to <a href="#/jobs">the jobs</a>.
            </p>
          </>
        ) : null}
      </main>
    </AppContext.Provider>
  );
}
