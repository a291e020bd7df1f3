// The dashboard's HTTP client: same origin, the token in the Authorization header, JSON in and
// out, errors as ApiError with the API's code and details; a 401 signs the tab out.

/** An error answer of the API ({error: {code, message, details}}), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path?: string; message?: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Api {
  get<T>(path: string, signal?: AbortSignal): Promise<T>;
  send<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** the response body as a Blob (downloads), with the Authorization header */
  blob(path: string): Promise<{ blob: Blob; filename: string | null }>;
  /** uploads a file as its content type, reporting progress (0..1) as the bytes leave */
  upload<T>(path: string, file: Blob, contentType: string, onProgress: (fraction: number) => void): Promise<T>;
  readonly token: string;
}

async function errorOf(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  const err = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
  return new ApiError(
    res.status,
    err?.code ?? `http_${res.status}`,
    err?.message ?? `The server answered ${res.status} ${res.statusText}.`,
    Array.isArray(err?.details) ? (err.details as { path?: string; message?: string }[]) : [],
  );
}

const FILENAME = /filename="([^"]+)"/;

/** A client bound to one token; onUnauthorized runs on any 401 (the caller signs out). */
export function createApi(token: string, onUnauthorized: () => void, fetchImpl: typeof fetch = fetch.bind(globalThis)): Api {
  const headers = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });
  async function call(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetchImpl(path, { ...init, method, credentials: 'omit', cache: 'no-store' });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, 'network_error', 'The server could not be reached.');
    }
    if (res.status === 401) {
      onUnauthorized();
      throw await errorOf(res);
    }
    if (!res.ok) throw await errorOf(res);
    return res;
  }
  return {
    token,
    async get<T>(path: string, signal?: AbortSignal): Promise<T> {
      const res = await call('GET', path, { headers: headers({ accept: 'application/json' }), signal: signal ?? null });
      return (await res.json()) as T;
    },
    async send<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const init: RequestInit = { headers: headers(body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' }) };
      if (body !== undefined) init.body = JSON.stringify(body);
      const res = await call(method, path, init);
      return (await res.json()) as T;
    },
    async blob(path: string) {
      const res = await call('GET', path, { headers: headers() });
      const filename = FILENAME.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? null;
      return { blob: await res.blob(), filename };
    },
    upload<T>(path: string, file: Blob, contentType: string, onProgress: (fraction: number) => void): Promise<T> {
      // fetch reports no upload progress; XMLHttpRequest does.
      return new Promise<T>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', path);
        xhr.setRequestHeader('authorization', `Bearer ${token}`);
        xhr.setRequestHeader('content-type', contentType);
        xhr.setRequestHeader('accept', 'application/json');
        xhr.responseType = 'text';
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
        };
        xhr.onerror = () => reject(new ApiError(0, 'network_error', 'The upload could not reach the server.'));
        xhr.onload = () => {
          let body: unknown = null;
          try {
            body = JSON.parse(xhr.responseText);
          } catch {
            // handled below
          }
          if (xhr.status === 401) onUnauthorized();
          if (xhr.status >= 200 && xhr.status < 300) {
            onProgress(1);
            resolve(body as T);
            return;
          }
          const err = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
          reject(new ApiError(xhr.status, err?.code ?? `http_${xhr.status}`, err?.message ?? `The server answered ${xhr.status}.`, Array.isArray(err?.details) ? (err.details as { path?: string; message?: string }[]) : []));
        };
        xhr.send(file);
      });
    },
  };
}
