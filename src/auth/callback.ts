import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthorizationResponseError, ResponseBodyError } from 'openid-client';
import type { GatewayContext } from '../context.js';
import { errors, GatewayError } from '../errors.js';
import type { IssuedTokens } from '../oidc/idp-client.js';
import { userClaims, type SessionData } from '../session/session.js';
import { storeIdOf } from '../session/sessions.js';
import type { LoginTransaction } from './login-transactions.js';
import { withErrorParam } from './return-to.js';

// GET /auth/callback: find the login this browser started (the sealed login cookie) and check
// the state against it BEFORE anything else in the answer is believed, `error=` included: a
// callback that is not the answer to this browser's login changes nothing, not even the login
// cookie, so a forged one cannot abort a login in progress. Then exchange the code
// (openid-client validates iss, PKCE and the ID token), claim the state once, and start a NEW
// session: an id the browser brought is never adopted. Everything that can refuse runs
// before the old session is deleted. A silent login (prompt=none) never ends on an error
// page: its errors go back to returnTo as `?error=<code>`.
export function callbackRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.get<{ Querystring: Record<string, unknown> }>('/auth/callback', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const transaction = loginOf(ctx, request);
    if (!transaction) throw errors.loginFailed('invalid_state', 'the state does not match a login of this browser (unknown, expired or forged)');
    ctx.cookies.clearLoginTransaction(reply);
    try {
      const sessionId = await completeLogin(ctx, request, transaction);
      ctx.cookies.setSession(reply, sessionId);
      return reply.redirect(transaction.returnTo, 302);
    } catch (e) {
      if (!transaction.silent || !(e instanceof GatewayError)) throw e;
      const code = e.status >= 500 ? 'temporarily_unavailable' : e.code;
      return reply.redirect(withErrorParam(transaction.returnTo, code), 302);
    }
  });
}

/** The login of this browser whose state the callback carries, or null. */
function loginOf(ctx: GatewayContext, request: FastifyRequest<{ Querystring: Record<string, unknown> }>): LoginTransaction | null {
  const { state } = request.query;
  const sealed = ctx.cookies.loginTransaction(request);
  const transaction = sealed === null ? null : ctx.logins.open(sealed);
  if (!transaction || typeof state !== 'string') return null;
  const given = Buffer.from(state);
  const expected = Buffer.from(transaction.state);
  return given.length === expected.length && timingSafeEqual(given, expected) ? transaction : null;
}

async function completeLogin(
  ctx: GatewayContext,
  request: FastifyRequest<{ Querystring: Record<string, unknown> }>,
  transaction: LoginTransaction,
): Promise<string> {
  const { error, error_description: description } = request.query;
  if (error !== undefined) {
    throw errors.loginFailed(oauthErrorCode(error), typeof description === 'string' ? description : 'the identity provider refused the login');
  }
  const tokens = await exchange(ctx, request, transaction);
  const claims = tokens.claims ?? {};
  if (typeof claims.sub !== 'string') throw errors.loginFailed('invalid_id_token', 'the ID token has no subject');
  // Claimed only now, once the IdP has exchanged a code for this state: the store is written
  // for real logins only, never for an anonymous call (see docs/security.md).
  if (!(await ctx.logins.claim(transaction))) throw errors.loginFailed('invalid_state', 'this login was already completed');

  await endPreviousSession(ctx, request);
  const data: SessionData = {
    sub: claims.sub,
    claims: userClaims(claims),
    tokens: withoutClaims(tokens),
    createdAt: Date.now(),
  };
  if (typeof claims.sid === 'string') data.sid = claims.sid;
  const { sessionId } = await ctx.sessions.create(data);
  return sessionId;
}

/** An IdP's error code as RFC 6749 spells them (4.1.2.1); anything else is not passed on. */
function oauthErrorCode(value: unknown): string {
  return typeof value === 'string' && /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(value) ? value : 'invalid_response';
}

async function exchange(
  ctx: GatewayContext,
  request: FastifyRequest,
  checks: LoginTransaction,
): Promise<IssuedTokens> {
  const rawQuery = request.url.slice(request.url.indexOf('?') + 1);
  try {
    return await ctx.idp.exchangeCode(rawQuery, { codeVerifier: checks.codeVerifier, nonce: checks.nonce, state: checks.state });
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
