import type { FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';

// pino through fastify. Requests are logged by path only for /auth/* (the callback's query
// holds the code and state), headers that carry credentials are redacted wherever they
// appear, and nothing logs a session, a token or a cookie value.

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.client_secret',
  '*.password',
];

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
    },
  };
}

/** A URL fit for a log line: the query of /auth/* endpoints is dropped. */
export function safeUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1 || !url.startsWith('/auth/')) return url;
  return `${url.slice(0, q)}?[redacted]`;
}
