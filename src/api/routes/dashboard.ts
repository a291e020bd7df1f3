// GET /: the dashboard, the React app that `npm run build` puts in dist/web, served from the
// API's own origin so it calls the API without CORS and reads the live stream with its token.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export interface DashboardRoutesOptions {
  /** the built app's folder; dist/web of the package by default */
  root?: string;
}

// src/api/routes and dist/api/routes are both three levels below the package root.
/** Where `npm run build` writes the dashboard (dist/web). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

// The app loads only its own scripts and styles and talks only to this origin; the token it
// holds is worth keeping from injected scripts and from framing.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = 'The dashboard is not built: run `npm run build` (npm ci runs it), then restart enrichd.\n';

/**
 * Serves the built dashboard at `/`: index.html revalidated on every load (a new build is
 * picked up at once), the hashed files under /assets/ cached for a year. Only `/` and
 * `/assets/*` are the dashboard's, so every API path keeps its own route and its JSON 404.
 */
export async function dashboardRoutes(app: FastifyInstance, opts: DashboardRoutesOptions = {}): Promise<void> {
  const root = opts.root ?? DASHBOARD_DIR;
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.status(503).type('text/plain; charset=utf-8').send(NOT_BUILT));
    return;
  }
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    index: false,
    cacheControl: false,
    dotfiles: 'ignore',
    // Also runs for the sendFile of index.html below.
    setHeaders(reply, path) {
      const page = basename(path) === 'index.html';
      void reply.header('cache-control', page ? 'no-cache' : 'public, max-age=31536000, immutable');
      void reply.header('x-content-type-options', 'nosniff');
    },
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('referrer-policy', 'no-referrer')
      .sendFile('index.html', root),
  );
}
