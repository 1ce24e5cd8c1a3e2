import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';

// pino through fastify. Every request line carries fastify's request id (reqId); the
// "request completed" line also names the route (the configured prefix, or the endpoint's
// path) and, for proxied calls, the upstream's status and duration. Requests are logged by
// path only for /auth/* (the callback's query holds the code and state), headers that carry
// credentials are redacted wherever they appear, and nothing logs a session, a token or a
// cookie value.

const SECRET_FIELDS = [
  'access_token', 'refresh_token', 'id_token', 'logout_token', 'client_secret', 'password',
  'accessToken', 'refreshToken', 'idToken', 'clientSecret', 'token', 'secret', 'secrets',
  'encryptionKeys', 'sessionId',
];

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["set-cookie"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
];

export interface UpstreamOutcome {
  status: number;
  durationMs: number;
}

// The upstream answer of a proxied request, kept until its "request completed" line.
const upstreamOutcomes = new WeakMap<FastifyRequest, UpstreamOutcome>();

/**
 * Records the upstream's status and the time to its response headers, for the request's
 * "request completed" log line. Called by the proxy when the upstream answers (the last
 * call wins, so a replayed call logs the replay).
 */
export function noteUpstreamResponse(request: FastifyRequest, status: number, durationSeconds: number): void {
  upstreamOutcomes.set(request, { status, durationMs: Math.round(durationSeconds * 1e4) / 10 });
}

/** The route label of a request: the proxy route's prefix, else the matched endpoint path. */
export function routeLabel(request: FastifyRequest): string {
  const options = request.routeOptions as Partial<FastifyRequest['routeOptions']> | undefined;
  const label = (options?.config as { routeLabel?: unknown } | undefined)?.routeLabel;
  if (typeof label === 'string') return label;
  return options?.url ?? 'unmatched';
}

export function loggerOptions(opts: { level?: string; stream?: DestinationStream }): FastifyServerOptions['logger'] {
  return {
    level: opts.level ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(opts.stream ? { stream: opts.stream } : {}),
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        id: req.id,
        method: req.method,
        url: safeUrl(req.url),
      }),
      res: serializeReply,
    },
  };
}

/** fastify hands its reply to the `res` serializer; anything else is logged by status only. */
function serializeReply(reply: FastifyReply | { statusCode?: number }): Record<string, unknown> {
  const out: Record<string, unknown> = { statusCode: reply.statusCode };
  const request = 'request' in reply ? reply.request : undefined;
  if (request === undefined) return out;
  out.route = routeLabel(request);
  const upstream = upstreamOutcomes.get(request);
  if (upstream) out.upstream = upstream;
  return out;
}

/** A URL fit for a log line: the query of /auth/* endpoints is dropped. */
export function safeUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1 || !url.startsWith('/auth/')) return url;
  return `${url.slice(0, q)}?[redacted]`;
}
