import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';

// /healthz: the process runs. /readyz: the store answers. /metrics: Prometheus text.
export function healthRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    try {
      await ctx.store.ping();
      return { status: 'ok' };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
}
