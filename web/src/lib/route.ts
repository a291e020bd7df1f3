// Hash routes: #/jobs?..., #/jobs/<id>, #/metrics, #/wizard. The fragment never reaches the
// server, and `#token=` is taken out of it before any route is read (auth/token.ts).

export type Route =
  | { name: 'jobs'; params: URLSearchParams }
  | { name: 'job'; id: string }
  | { name: 'metrics' }
  | { name: 'wizard' }
  | { name: 'not-found'; path: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The route a fragment names; an empty one is the jobs view. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path = '', query = ''] = raw.split('?', 2);
  const clean = path.replace(/\/+$/, '');
  if (clean === '' || clean === '/jobs') return { name: 'jobs', params: new URLSearchParams(query) };
  const job = /^\/jobs\/([^/]+)$/.exec(clean);
  if (job && UUID.test(job[1]!)) return { name: 'job', id: job[1]!.toLowerCase() };
  if (clean === '/metrics') return { name: 'metrics' };
  if (clean === '/wizard') return { name: 'wizard' };
  return { name: 'not-found', path: clean };
}

/** The fragment of the jobs view with the given parameters. */
export function jobsHref(params?: URLSearchParams): string {
  const q = params?.toString() ?? '';
  return q === '' ? '#/jobs' : `#/jobs?${q}`;
}

/** The fragment of one job's detail. */
export function jobHref(id: string): string {
  return `#/jobs/${id}`;
}
