import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import { stdSerializers, type DestinationStream } from 'pino';
import { redactUrl, redactUrlsInText } from './redact-url.js';
import { activeTraceId } from './tracing.js';

// pino through fastify. Every line about a request carries fastify's request id (reqId).
// The one line per request is access-log.ts's; these options are for everything else:
// headers that carry credentials and fields that name secrets are redacted wherever they
// appear, and nothing logs a session, a token or a cookie value. Every URL is logged through
// redact-url.ts (code and state values replaced anywhere, /auth/* queries dropped).

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
        url: redactUrl(req.url),
      }),
      // an error's message may quote a URL (fastify's "Reply was already sent ... in <url>")
      err: (error: Error) => {
        const out = stdSerializers.err(error);
        if (typeof out.message === 'string') out.message = redactUrlsInText(out.message);
        if (typeof out.stack === 'string') out.stack = redactUrlsInText(out.stack);
        return out;
      },
      res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
    },
  };
}

function traceIdField(): { traceId?: string } {
  const traceId = activeTraceId();
  return traceId === undefined ? {} : { traceId };
}
