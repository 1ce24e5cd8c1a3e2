import type { Readable } from 'node:stream';
import { errors } from '../errors.js';

const ignore = (): void => {};

/**
 * A request body as one Buffer, refused with payload_too_large (413) as soon as it passes
 * `maxBytes` and with request_timeout (408) when it has not arrived within `timeoutMs`.
 * What the client still sends after a refusal is read and discarded, so the refusal can be
 * answered on the same connection.
 */
export function readBody(stream: Readable, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error: Error | undefined) => {
      clearTimeout(timer);
      stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      stream.on('error', ignore); // a client that goes away later is not an unhandled error
      if (error === undefined) {
        resolve(Buffer.concat(chunks, received));
        return;
      }
      stream.resume();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) finish(errors.payloadTooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = (error: Error) => finish(errors.invalidRequest(`the request body could not be read: ${error.message}`));
    const onClose = () => finish(errors.invalidRequest('the request body ended early'));
    const timer = setTimeout(() => finish(errors.requestTimeout()), timeoutMs);
    stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
