import type { FastifyInstance } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { authorize } from './authorize.js';
import { registerProxy } from './register-proxy.js';
import { holdForReplay } from './replay.js';

// A REST route. Before forwarding: the CSRF header, the session, a fresh access token.
// Bodies stream both ways untouched, except small ones of known length (≤ 64 KiB): those
// are held, so a slow client holds no upstream connection, and on routes that retry an
// upstream 401 invalid_token can be answered with one refresh and one replay.

export function registerRoute(app: FastifyInstance, ctx: GatewayContext, route: RouteConfig): Promise<void> {
  const retries = route.retryOn401 && route.token !== 'none';
  return registerProxy(app, ctx, route, {
    prepare: async (request, call) => {
      call.token = await authorize(ctx, route, request, call);
      // a small body of known length is read before an upstream connection is taken, on
      // every route: a client that sends it slowly holds no upstream connection meanwhile
      const held = await holdForReplay(request, route.timeoutMs);
      if (held.kind === 'buffered') call.body = held.body;
      call.replayable = retries && call.token !== undefined && held.kind !== 'streamed';
    },
  });
}
