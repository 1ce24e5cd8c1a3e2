import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { isSafeReturnTo, MAX_RETURN_TO_LENGTH } from './return-to.js';

// GET /auth/login?returnTo=/path[&prompt=none]: start the code flow with PKCE (S256), state
// and nonce. The login transaction travels sealed in the login cookie; nothing is written
// to the store (an anonymous call costs no store memory).
export function loginRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.get<{ Querystring: { returnTo?: unknown; prompt?: unknown } }>('/auth/login', async (request, reply) => {
    const { returnTo = '/', prompt } = request.query;
    if (typeof returnTo !== 'string' || returnTo.length > MAX_RETURN_TO_LENGTH) {
      throw errors.invalidRequest(`returnTo must be one relative path of at most ${MAX_RETURN_TO_LENGTH} characters`);
    }
    if (!isSafeReturnTo(returnTo)) {
      throw errors.invalidRequest('returnTo must be a relative path on this site, in visible ASCII (percent-encode the rest)');
    }
    // Only a silent login may be asked for: other prompts (login, consent, select_account)
    // are the IdP's business, and passing them through unchecked would invite surprises.
    if (prompt !== undefined && prompt !== 'none') throw errors.invalidRequest('prompt may only be "none"');
    const silent = prompt === 'none';
    const { transaction, sealed } = ctx.logins.begin(returnTo, silent);
    const url = await ctx.idp.authorizationUrl(transaction, silent ? { prompt: 'none' } : {});
    ctx.cookies.setLoginTransaction(reply, sealed);
    return reply.header('cache-control', 'no-store').redirect(url.href, 302);
  });
}
