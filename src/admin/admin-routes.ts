import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { adminActor, adminTokenCheck, adminUnauthenticated } from './admin-auth.js';

// The admin API (the management listener when there is one): a user's sessions, ending
// them, and the live counts. Every call is logged with who (the peer's address, "admin")
// and what; never a token. Without server.adminToken none of it is registered (404).

type SubQuery = { Querystring: { sub?: string } };

export async function adminRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const { adminToken } = ctx.config.server;
  if (!adminToken) return;
  const authorized = adminTokenCheck(adminToken);
  await app.register(async (admin) => {
    admin.addHook('onRequest', async (request) => {
      if (authorized(request)) return;
      request.log.warn({ admin: { ...adminActor(request), action: `${request.method} ${request.routeOptions.url ?? 'unknown'}` } }, 'admin call refused: wrong or missing token');
      throw adminUnauthenticated();
    });

    admin.get<SubQuery>('/admin/sessions', async (request) => {
      const sub = subOf(request);
      const sessions = await ctx.userSessions.list(sub);
      logAction(request, 'list sessions', { sub, count: sessions.length });
      return { sessions };
    });

    admin.delete<SubQuery>('/admin/sessions', async (request) => {
      const sub = subOf(request);
      const ended = await ctx.userSessions.endAll(sub, 'ended by an admin');
      logAction(request, 'end sessions', { sub, ended });
      return { ended };
    });

    admin.get('/admin/sessions/stats', async (request) => {
      const stats = await ctx.userSessions.stats();
      logAction(request, 'session stats', stats);
      return stats;
    });
  });
}

function subOf(request: FastifyRequest<SubQuery>): string {
  const { sub } = request.query;
  if (typeof sub !== 'string' || sub === '' || sub.length > 255) throw errors.invalidRequest('sub is required (the user\'s subject)');
  return sub;
}

function logAction(request: FastifyRequest, action: string, what: Record<string, unknown>): void {
  request.log.info({ admin: { ...adminActor(request), action, ...what } }, `admin: ${action}`);
}
