import type { FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { traceSessionRead } from '../observability/request-tracing.js';
import type { LoadedSession } from './session.js';

/**
 * The live session of a request, or null when it has none. With tracing on, a session.read
 * span is made after the load, marked with whether the session cache served it: inline,
 * so that a traced load costs no wrapper function or promise of its own.
 */
export async function requestSession(ctx: GatewayContext, request: FastifyRequest): Promise<LoadedSession | null> {
  const sessionId = ctx.cookies.sessionId(request);
  if (!sessionId) return null;
  let session: LoadedSession | null;
  if (!request.traceContext) {
    session = await ctx.sessions.load(sessionId);
  } else {
    const served = { fromCache: false };
    const startTime = performance.now();
    try {
      session = await ctx.sessions.load(sessionId, served);
    } catch (e) {
      traceSessionRead(request, false, startTime, e);
      throw e;
    }
    traceSessionRead(request, served.fromCache, startTime);
  }
  // lastSeenAt and the user agent for the user's session list: at most a write a minute
  if (session) ctx.userSessions?.seen(session, request.headers['user-agent']);
  return session;
}

export function requireCsrfHeader(request: FastifyRequest): void {
  if (request.headers['x-csrf'] !== '1') throw errors.csrfHeaderMissing();
}
