import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errors, GatewayError, StoreUnavailableError } from '../errors.js';

// An upgrade request the gateway does not accept is answered as plain HTTP on the raw
// socket (there is no fastify reply for it), with the same status, JSON body and headers
// the error handler gives any other call, then the connection is closed.

export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof StoreUnavailableError) return errors.sessionStoreUnavailable({ cause: error });
  return errors.internal({ cause: error });
}

export function refuseUpgrade(socket: Duplex, error: GatewayError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(error.toJSON());
  const lines = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    ...Object.entries(error.headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
