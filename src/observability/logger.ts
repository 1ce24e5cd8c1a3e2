import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { activeTraceId } from './tracing.js';

// pino through fastify. Every line about a request carries fastify's request id (reqId).
// The one line per request is access-log.ts's; these options are for everything else:
// headers that carry credentials and fields that name secrets are redacted wherever they
// appear, and nothing logs a session, a token or a cookie value. Paths of /auth/* are
// logged without their query (the callback's holds the code and state).

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

/** The route label of a request: the proxy route's prefix, else the matched endpoint path. */
export function routeLabel(request: FastifyRequest): string {
  const options = request.routeOptions as Partial<FastifyRequest['routeOptions']> | undefined;
  const label = (options?.config as { routeLabel?: unknown } | undefined)?.routeLabel;
  if (typeof label === 'string') return label;
  return options?.url ?? 'unmatched';
}

export function loggerOptions(opts: { level?: string; stream?: DestinationStream; traced?: boolean }): FastifyServerOptions['logger'] {
  return {
    level: opts.level ?? 'info',
    // with tracing on, a line written inside a trace names it
    ...(opts.traced ? { mixin: traceIdField } : {}),
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(opts.stream ? { stream: opts.stream } : {}),
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        id: req.id,
        method: req.method,
        url: safeUrl(req.url),
      }),
      res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
    },
  };
}

/** A URL fit for a log line: the query of /auth/* endpoints is dropped. */
export function safeUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1 || !url.startsWith('/auth/')) return url;
  return `${url.slice(0, q)}?[redacted]`;
}

function traceIdField(): { traceId?: string } {
  const traceId = activeTraceId();
  return traceId === undefined ? {} : { traceId };
}
