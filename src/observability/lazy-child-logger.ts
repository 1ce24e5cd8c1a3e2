import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

// fastify gives every request a child logger bound to its request id. pino builds a child
// eagerly, bindings redacted and serialised, which cost a proxied call several microseconds
// although most requests never log a line (their one access line is access-log.ts's). This
// factory hands out a stand-in that makes the child on the first line written.
//
// The stand-in is a class instance on purpose. An object literal given its own `level`
// accessor per request gets a hidden class (a V8 Map, always in the old generation) of its
// own; that dead Map kept the request's young objects alive through every minor collection
// until the next full one, which made the gateway's old generation grow ten times as fast as
// a bare fastify's and its major collections the p99 tail (bench/README.md).

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
type LogArgs = Parameters<FastifyBaseLogger['info']>;

class LazyChildLogger {
  #child: FastifyBaseLogger | undefined;
  /** the request's trace id, bound to the child when it is made (tracing on, proxied routes) */
  traceId: string | undefined = undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  get level(): string {
    return (this.#child ?? this.parent).level;
  }

  set level(value: string) {
    this.real().level = value;
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  fatal(...args: LogArgs): void {
    this.real().fatal(...args);
  }

  error(...args: LogArgs): void {
    this.real().error(...args);
  }

  warn(...args: LogArgs): void {
    this.real().warn(...args);
  }

  info(...args: LogArgs): void {
    this.real().info(...args);
  }

  debug(...args: LogArgs): void {
    this.real().debug(...args);
  }

  trace(...args: LogArgs): void {
    this.real().trace(...args);
  }

  silent(...args: LogArgs): void {
    this.real().silent(...args);
  }

  private real(): FastifyBaseLogger {
    return (this.#child ??= this.parent.child(this.traceId === undefined ? this.bindings : { ...this.bindings, traceId: this.traceId }, this.options));
  }
}

/** Names a trace in every line a request's logger writes from now on. */
export function setLogTraceId(log: FastifyBaseLogger, traceId: string): void {
  if (log instanceof LazyChildLogger) log.traceId = traceId;
}

export const lazyChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings: Bindings, options: ChildOptions) =>
  new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
