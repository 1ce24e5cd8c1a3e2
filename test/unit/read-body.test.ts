import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { readBody } from '../../src/http/read-body.js';

const failure = async (promise: Promise<unknown>): Promise<GatewayError> => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
};

describe('readBody', () => {
  it('collects the whole body', async () => {
    const stream = new PassThrough();
    const read = readBody(stream, 10, 10_000);
    stream.write('abc');
    stream.end('def');
    expect((await read).toString()).toBe('abcdef');
  });

  it('refuses with 413 as soon as the body passes the limit, before it ends', async () => {
    const stream = new PassThrough();
    const read = readBody(stream, 5, 10_000);
    stream.write('abcdef'); // never ended
    expect((await failure(read)).code).toBe('payload_too_large');
    stream.write('more'); // drained, not an error
    stream.destroy(new Error('late client error')); // not an unhandled error
  });

  it('refuses with 408 when the body does not arrive in time', async () => {
    const stream = new PassThrough();
    const read = readBody(stream, 100, 50);
    stream.write('abc'); // and then nothing
    const error = await failure(read);
    expect([error.status, error.code]).toEqual([408, 'request_timeout']);
  });

  it('refuses with 400 when the client goes away mid-body', async () => {
    const stream = new PassThrough();
    const read = readBody(stream, 100, 10_000);
    stream.write('abc');
    stream.destroy(new Error('aborted'));
    expect((await failure(read)).status).toBe(400);
  });
});
