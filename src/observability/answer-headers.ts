import type { FastifyInstance } from 'fastify';

// The headers every answer the gateway writes itself carries (its JSON errors, /auth/*,
// /healthz, /readyz, the answers to a request it could not read): no MIME sniffing, and no
// cache keeps them (they hold session state, login redirects, or say something about now).
// Proxied upstream answers are left as the upstream sent them.

export const GATEWAY_ANSWER_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
});

/** Adds GATEWAY_ANSWER_HEADERS to every answer of the routes of `scope` (an encapsulated plugin). */
export function addGatewayAnswerHeaders(scope: FastifyInstance): void {
  scope.addHook('onRequest', (_request, reply, done) => {
    reply.headers(GATEWAY_ANSWER_HEADERS);
    done();
  });
}
