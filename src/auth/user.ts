import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { requestSession, requireCsrfHeader } from '../session/request-session.js';

// GET /auth/user: who is logged in and until when. Never a token.
export function userRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/auth/user', async (request, reply) => {
    requireCsrfHeader(request);
    const session = await requestSession(ctx, request);
    if (!session) throw errors.unauthenticated();
    reply.header('cache-control', 'no-store');
    return {
      sub: session.data.sub,
      claims: session.data.claims,
      session: {
        expiresAt: new Date(session.absoluteExpiresAt).toISOString(),
        idleExpiresAt: new Date(session.idleExpiresAt).toISOString(),
      },
      // the gateway's refreshes of this session's access token, never a token (and no field
      // named like one: an SPA's logs stay clean of anything that looks like a token)
      refreshes: {
        lastAt: session.data.refreshedAt === undefined ? null : new Date(session.data.refreshedAt).toISOString(),
        count: session.data.refreshCount ?? 0,
      },
    };
  });
}
