import type { FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { traced, tracingOn } from '../observability/tracing.js';
import type { LoadedSession } from './session.js';

/** The live session of a request, or null when it has none. */
export async function requestSession(ctx: GatewayContext, request: FastifyRequest): Promise<LoadedSession | null> {
  const sessionId = ctx.cookies.sessionId(request);
  if (!sessionId) return null;
  return tracingOn() ? traced('session.read', () => ctx.sessions.load(sessionId)) : ctx.sessions.load(sessionId);
}

export function requireCsrfHeader(request: FastifyRequest): void {
  if (request.headers['x-csrf'] !== '1') throw errors.csrfHeaderMissing();
}
