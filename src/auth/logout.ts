import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { describeError } from '../errors.js';
import { requestSession, requireCsrfHeader } from '../session/request-session.js';

// POST /auth/logout: revoke the refresh token at the IdP (RFC 7009), delete the session,
// expire the cookie, and tell the SPA where to send the browser to end the IdP session.
// Without a live session it still expires the cookie and answers the logout URL.
// `?all=true`: every other session of the same user ends too, each refresh token revoked.
export function logoutRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.post<{ Querystring: { all?: string } }>('/auth/logout', async (request, reply) => {
    requireCsrfHeader(request);
    const session = await requestSession(ctx, request);
    if (session) {
      const { refreshToken } = session.data.tokens;
      if (refreshToken) {
        // a failed revocation must not keep the user logged in: log it and go on
        await ctx.idp.revoke(refreshToken, 'refresh_token').catch((err: unknown) => {
          request.log.warn({ err: describeError(err) }, 'refresh token revocation failed');
        });
      }
      await ctx.sessions.delete(session.storeId);
      await ctx.userSessions.dropped(session.data.sub, [session.storeId]);
      if (request.query.all === 'true') {
        const ended = await ctx.userSessions.endAll(session.data.sub, 'logout everywhere', session.storeId);
        request.log.info({ ended: ended + 1 }, 'logout everywhere');
      }
    }
    ctx.cookies.clearSession(reply);
    reply.header('cache-control', 'no-store');
    return { logoutUrl: ctx.idp.logoutUrl(session?.data.tokens.idToken) ?? null };
  });
}
