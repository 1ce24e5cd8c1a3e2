import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { errors, GatewayError, StoreUnavailableError } from '../errors.js';

// An upgrade request the gateway does not accept is answered as plain HTTP on the raw
// socket (there is no fastify reply for it), with the same status, JSON body and headers
// the error handler gives any other call, then the connection is closed. An upstream's 401
// to the handshake passes through as a proxied call's would: its status, headers (as
// Upstream.responseHeaders filters them) and body.

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
    'Content-Type: application/json; charset=utf-8',
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    ...Object.entries(error.headers).map(([name, value]) => `${name}: ${value}`),
  ];
  answerAndClose(socket, error.status, lines, Buffer.from(body));
}

/** The upstream's refusal as it came; `headers` are filtered already (no hop-by-hop header). */
export function passUpstreamRefusal(socket: Duplex, status: number, headers: IncomingHttpHeaders, body: Buffer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const lines: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'content-length' || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  answerAndClose(socket, status, lines, body);
}

/** header values as node read them: one byte a character */
function answerAndClose(socket: Duplex, status: number, lines: string[], body: Buffer): void {
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'Connection: close', `Content-Length: ${body.length}`, ...lines];
  socket.once('finish', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
}
