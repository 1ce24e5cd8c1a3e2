import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { errors, GatewayError } from '../errors.js';
import { GATEWAY_ANSWER_HEADERS } from './answer-headers.js';

// Node's 'clientError': a request that could not be read, answered on the raw socket, which
// is then closed. The common one is server.requestTimeout (Node's ERR_HTTP_REQUEST_TIMEOUT:
// the head or the body did not arrive in time): 408 request_timeout. Destroying the socket
// ends the request's body stream, which makes undici break off the upstream call that body
// was being streamed to and close its connection. The answers have the gateway's JSON shape
// and headers (fastify's default handler writes a body of its own).

interface ConnectionError extends Error {
  code?: string;
}

function answerFor(code: string | undefined): GatewayError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return errors.requestTimeout();
    case 'HPE_HEADER_OVERFLOW':
      return new GatewayError('request_header_fields_too_large', 431);
    default:
      return errors.invalidRequest();
  }
}

/** The raw bytes of an answer to a request that could not be read. */
export function rawAnswer(error: GatewayError): string {
  const body = JSON.stringify(error.toJSON());
  const headers = {
    ...GATEWAY_ANSWER_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${error.status} ${statusText(error.status)}\r\n${lines.join('')}\r\n${body}`;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
const statusText = (status: number) => STATUS_TEXT[status] ?? 'Error';

/** fastify's `clientErrorHandler` (called with the fastify instance as `this`). */
export function answerClientError(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer = answerFor(error.code);
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    this.log.info({ remoteAddress: socket.remoteAddress }, 'request not received within server.requestTimeout: 408, connection closed');
  } else {
    this.log.debug({ code: error.code }, 'unreadable request: connection closed');
  }
  // as Node does: no answer of our own where one has begun (an upstream answered before the
  // request's body was all in); the connection is closed all the same
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.write(rawAnswer(answer));
  socket.destroy(error);
}
