import type { FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { traced, tracingOn } from '../observability/tracing.js';
import type { LoadedSession } from './session.js';

/** The live session of a request, or null when it has none. */
export async function requestSession(ctx: GatewayContext, request: FastifyRequest): Promise<LoadedSession | null> {
  const sessionId = ctx.cookies.sessionId(request);
  if (!sessionId) return null;
  const session = await (tracingOn() ? traced('session.read', () => ctx.sessions.load(sessionId)) : ctx.sessions.load(sessionId));
  // lastSeenAt and the user agent for the user's session list: at most a write a minute
  if (session) ctx.userSessions?.seen(session, request.headers['user-agent']);
  return session;
}

export function requireCsrfHeader(request: FastifyRequest): void {
  if (request.headers['x-csrf'] !== '1') throw errors.csrfHeaderMissing();
}
