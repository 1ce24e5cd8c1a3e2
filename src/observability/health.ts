import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';

// /healthz: the process runs. /readyz: the store answers. /metrics: Prometheus text (on the
// management listener when there is one, else here).
export function healthRoutes(app: FastifyInstance, ctx: GatewayContext, opts: { metrics: boolean } = { metrics: true }): void {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    try {
      await ctx.store.ping();
      return { status: 'ok' };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });

  if (!opts.metrics) return;
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
}
