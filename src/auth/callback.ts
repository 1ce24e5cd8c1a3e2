import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthorizationResponseError, ResponseBodyError } from 'openid-client';
import type { GatewayContext } from '../context.js';
import { errors, GatewayError } from '../errors.js';
import type { IssuedTokens } from '../oidc/idp-client.js';
import { userClaims, type SessionData } from '../session/session.js';
import { storeIdOf } from '../session/sessions.js';

// GET /auth/callback: check the state against the login cookie and the one-time login
// transaction, exchange the code (openid-client validates iss, PKCE and the ID token), and
// start a NEW session: an id the browser brought is never adopted.
export function callbackRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/auth/callback', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const { query } = request;
    const expectedState = ctx.cookies.loginState(request);
    ctx.cookies.clearLoginState(reply);
    if (query.error) throw errors.loginFailed(query.error, query.error_description ?? 'the identity provider refused the login');
    if (!query.state || !expectedState || query.state !== expectedState) {
      throw errors.loginFailed('invalid_state', 'the state does not match this browser\'s login');
    }
    const transaction = await ctx.logins.take(query.state);
    if (!transaction) throw errors.loginFailed('invalid_state', 'unknown, expired or already used state');

    const tokens = await exchange(ctx, request, { ...transaction, state: query.state });
    const claims = tokens.claims ?? {};
    if (typeof claims.sub !== 'string') throw errors.loginFailed('invalid_id_token', 'the ID token has no subject');

    await endPreviousSession(ctx, request);
    const data: SessionData = {
      sub: claims.sub,
      claims: userClaims(claims),
      tokens: withoutClaims(tokens),
      createdAt: Date.now(),
    };
    if (typeof claims.sid === 'string') data.sid = claims.sid;
    const { sessionId } = await ctx.sessions.create(data);
    ctx.cookies.setSession(reply, sessionId);
    return reply.redirect(transaction.returnTo, 302);
  });
}

async function exchange(
  ctx: GatewayContext,
  request: FastifyRequest,
  checks: { codeVerifier: string; nonce: string; state: string },
): Promise<IssuedTokens> {
  const rawQuery = request.url.slice(request.url.indexOf('?') + 1);
  try {
    return await ctx.idp.exchangeCode(rawQuery, checks);
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    if (e instanceof ResponseBodyError || e instanceof AuthorizationResponseError) {
      throw errors.loginFailed(e.error, e.error_description ?? 'the identity provider refused the code');
    }
    if (isValidationFailure(e)) throw errors.loginFailed('invalid_response', 'the login response failed validation');
    throw errors.tokenServiceUnavailable({ cause: e });
  }
}

/** Codes of openid-client's (and jose's) checks of a response: ID token, nonce, iss, state. */
const VALIDATION_CODES = new Set([
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
  'OAUTH_INVALID_RESPONSE',
  'OAUTH_INVALID_REQUEST',
]);

function isValidationFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (VALIDATION_CODES.has(code) || code.startsWith('ERR_JW'));
}

async function endPreviousSession(ctx: GatewayContext, request: FastifyRequest): Promise<void> {
  const previous = ctx.cookies.sessionId(request);
  if (previous) await ctx.sessions.delete(storeIdOf(previous));
}

function withoutClaims(tokens: IssuedTokens): SessionData['tokens'] {
  const { claims: _claims, ...rest } = tokens;
  return rest;
}
