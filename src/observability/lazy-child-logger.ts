import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

// fastify gives every request a child logger bound to its request id. pino builds a child
// eagerly, bindings redacted and serialised, which cost a proxied call several microseconds
// although most requests never log a line (their one access line is access-log.ts's). This
// factory hands out a stand-in that makes the child on the first line written.

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const lazyChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings: Bindings, options: ChildOptions) => {
  let child: FastifyBaseLogger | undefined;
  const real = () => (child ??= logger.child(bindings, options));
  const stand: Record<string, unknown> = {
    child: (more: Bindings, moreOptions?: ChildOptions) => real().child(more, moreOptions),
  };
  for (const level of LEVELS) stand[level] = (...args: unknown[]) => (real()[level] as (...a: unknown[]) => void)(...args);
  Object.defineProperty(stand, 'level', {
    get: () => (child ?? logger).level,
    set: (value: string) => {
      real().level = value;
    },
  });
  return stand as unknown as FastifyBaseLogger;
};
