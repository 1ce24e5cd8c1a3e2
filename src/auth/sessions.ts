import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { requestSession, requireCsrfHeader } from '../session/request-session.js';

// GET /auth/sessions: the caller's user's live sessions (an opaque id each, never the
// cookie's value or the store key). DELETE /auth/sessions/{id}: end one of them, its refresh
// token revoked; another user's or an unknown id is 404.
export function userSessionRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/auth/sessions', async (request, reply) => {
    requireCsrfHeader(request);
    const session = await requestSession(ctx, request);
    if (!session) throw errors.unauthenticated();
    reply.header('cache-control', 'no-store');
    return { sessions: await ctx.userSessions.list(session.data.sub, session.storeId) };
  });

  app.delete<{ Params: { id: string } }>('/auth/sessions/:id', async (request, reply) => {
    requireCsrfHeader(request);
    const session = await requestSession(ctx, request);
    if (!session) throw errors.unauthenticated();
    const { id } = request.params;
    if (!(await ctx.userSessions.endByHandle(session.data.sub, id))) throw errors.notFound();
    request.log.info({ sessionHandle: id }, 'a user ended one of their sessions');
    // the caller ended its own session: its cookie is no use any more
    if (id === ctx.userSessions.handleOf(session.storeId)) ctx.cookies.clearSession(reply);
    reply.header('cache-control', 'no-store');
    return reply.status(204).send();
  });
}
