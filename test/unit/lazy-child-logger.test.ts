import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger } from '../../src/observability/lazy-child-logger.js';

function parentLogger(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level }, stream) as unknown as FastifyBaseLogger;
  return { logger, lines };
}

const make = (parent: FastifyBaseLogger) => lazyChildLogger.call(undefined as never, parent, { reqId: 'r-1' }, {}, undefined as never);

describe('lazyChildLogger', () => {
  it('writes lines bound to the request id, through child loggers too', async () => {
    const { logger, lines } = parentLogger();
    const log = make(logger);
    log.info({ route: '/api' }, 'first');
    log.child({ extra: 1 }).warn('second');
    log.debug('not at info');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.msg, l.reqId, l.route ?? l.extra])).toEqual([
      ['first', 'r-1', '/api'],
      ['second', 'r-1', 1],
    ]);
  });

  it("reads the parent's level until it has a child, and a level set applies to this request only", async () => {
    const { logger, lines } = parentLogger('warn');
    const log = make(logger);
    expect(log.level).toBe('warn');
    log.level = 'debug';
    expect(log.level).toBe('debug');
    expect(logger.level).toBe('warn');
    log.debug('now written');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).toEqual(['now written']);
  });

  it('keeps `level` off the instance (an own accessor per request gave each its own V8 hidden class)', () => {
    const { logger } = parentLogger();
    const a = make(logger);
    expect(Object.getOwnPropertyDescriptor(a, 'level')).toBeUndefined();
    expect(Object.getOwnPropertyNames(a)).toEqual(Object.getOwnPropertyNames(make(logger)));
    expect(Object.getOwnPropertyNames(a).filter((name) => typeof Object.getOwnPropertyDescriptor(a, name)?.value === 'function')).toEqual([]);
  });
});
