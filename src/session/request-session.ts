import type { FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { traceSessionRead } from '../observability/request-tracing.js';
import type { LoadedSession } from './session.js';

/** The live session of a request, or null when it has none. */
export async function requestSession(ctx: GatewayContext, request: FastifyRequest): Promise<LoadedSession | null> {
  const sessionId = ctx.cookies.sessionId(request);
  if (!sessionId) return null;
  const session = request.traceContext ? await tracedLoad(ctx, request, sessionId) : await ctx.sessions.load(sessionId);
  // lastSeenAt and the user agent for the user's session list: at most a write a minute
  if (session) ctx.userSessions?.seen(session, request.headers['user-agent']);
  return session;
}

/** The load with tracing on: a session.read span, marked with whether the session cache served it. */
async function tracedLoad(ctx: GatewayContext, request: FastifyRequest, sessionId: string): Promise<LoadedSession | null> {
  const served = { fromCache: false };
  const startTime = performance.now();
  try {
    const session = await ctx.sessions.load(sessionId, served);
    traceSessionRead(request, served.fromCache, startTime);
    return session;
  } catch (e) {
    traceSessionRead(request, false, startTime, e);
    throw e;
  }
}

export function requireCsrfHeader(request: FastifyRequest): void {
  if (request.headers['x-csrf'] !== '1') throw errors.csrfHeaderMissing();
}
