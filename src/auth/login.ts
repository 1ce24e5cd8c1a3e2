import type { FastifyInstance } from 'fastify';
import { randomNonce, randomPKCECodeVerifier, randomState } from 'openid-client';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { isSafeReturnTo } from './return-to.js';

// GET /auth/login?returnTo=/path: start the code flow with PKCE (S256), state and nonce.
export function loginRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.get<{ Querystring: { returnTo?: string } }>('/auth/login', async (request, reply) => {
    const returnTo = request.query.returnTo ?? '/';
    if (typeof returnTo !== 'string' || !isSafeReturnTo(returnTo)) {
      throw errors.invalidRequest('returnTo must be a relative path on this site');
    }
    const state = randomState();
    const checks = { codeVerifier: randomPKCECodeVerifier(), nonce: randomNonce(), state };
    await ctx.logins.begin(state, { codeVerifier: checks.codeVerifier, nonce: checks.nonce, returnTo });
    ctx.cookies.setLoginState(reply, state);
    const url = await ctx.idp.authorizationUrl(checks);
    return reply.header('cache-control', 'no-store').redirect(url.href, 302);
  });
}
