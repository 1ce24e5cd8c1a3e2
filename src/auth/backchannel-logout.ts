import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { LogoutTokenError } from '../oidc/logout-token.js';

// POST /auth/backchannel-logout (OpenID Connect Back-Channel Logout 1.0): the IdP posts a
// signed logout token; every session of its sid (or of its sub when it has no sid) ends in
// the shared store, so on every instance. A jti is accepted once.

const FORM = 'application/x-www-form-urlencoded';

export function backchannelLogoutRoute(app: FastifyInstance, ctx: GatewayContext): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
      done(null, new URLSearchParams(body as string));
    });

    scope.post('/auth/backchannel-logout', async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const token = request.body instanceof URLSearchParams ? request.body.get('logout_token') : null;
      if (!token) return refuse('no logout_token form field');

      let logout;
      try {
        logout = await ctx.logoutTokens.verify(token);
      } catch (e) {
        if (e instanceof LogoutTokenError) return refuse(e.message);
        throw errors.tokenServiceUnavailable({ cause: e });
      }
      const jti = createHash('sha256').update(`logout-jti\0${logout.jti}`).digest('base64url');
      if (!(await ctx.store.claimOnce(jti, ctx.logoutTokens.replayWindowMs))) return refuse('logout token replayed');

      let ended: number;
      try {
        ended = await ctx.sessions.endAllOf(logout);
      } catch (e) {
        // nothing may stay half done: free the jti so that the IdP's retry is not a replay
        await ctx.store.takeOnce(jti).catch(() => {});
        throw e;
      }
      request.log.info({ sessions: ended, by: logout.sid ? 'sid' : 'sub' }, 'back-channel logout');
      return reply.code(200).send();

      function refuse(reason: string): never {
        request.log.info({ reason }, 'back-channel logout refused');
        throw errors.invalidRequest();
      }
    });
  });
}
