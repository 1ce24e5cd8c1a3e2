import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { GatewayContext } from '../context.js';
import { installErrorHandler } from '../observability/error-handler.js';
import { healthRoutes } from '../observability/health.js';
import { OneLinePerRequest } from '../observability/access-log.js';
import { addGatewayAnswerHeaders } from '../observability/answer-headers.js';

// The operators' listener (server.management): a second fastify instance beside the public
// one, sharing its context. /healthz, /readyz and /metrics here; /admin/* is added by
// buildApp. It has no cookies, no auth routes and no proxy routes.

declare module 'fastify' {
  interface FastifyInstance {
    /** the management listener's app when server.management is set (buildApp decorates it), else null */
    management: FastifyInstance | null;
  }
}

export async function buildManagementApp(
  ctx: GatewayContext,
  log: FastifyBaseLogger,
  register: (app: FastifyInstance) => void | Promise<void>,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log.child({ listener: 'management' }),
    genReqId: () => randomUUID(),
    // the peer address is who an admin action is logged as: no proxy sits in front of it
    trustProxy: false,
    bodyLimit: 64 * 1024,
    // admin actions are logged by the admin routes; fastify's error lines stay
    logController: new OneLinePerRequest(),
  });
  installErrorHandler(app);
  addGatewayAnswerHeaders(app); // every answer here is the gateway's own: nosniff, no-store
  healthRoutes(app, ctx, { metrics: true });
  await register(app);
  await app.ready();
  return app;
}
