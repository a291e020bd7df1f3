// GET /metrics (Prometheus text format) and the HTTP request-duration hook that feeds it.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';

/** Renders the metrics text: one process's registry, or a supervisor's merge of its children's. */
export type RenderMetrics = () => Promise<{ contentType: string; body: string }>;

export interface MetricsRoutesOptions {
  render: RenderMetrics;
}

/**
 * Times every request by method, route pattern and status code. Added on the root instance
 * before any route plugin, so every encapsulated scope inherits it; a request that matched no
 * route is labelled by a fixed word, never by its raw URL (unbounded, and possibly private).
 */
export function instrumentHttp(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}

/** Registers GET /metrics. */
export async function metricsRoutes(app: FastifyInstance, opts: MetricsRoutesOptions): Promise<void> {
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics (text format)' } }, async (_request, reply) => {
    const { contentType, body } = await opts.render();
    return reply.type(contentType).send(body);
  });
}
