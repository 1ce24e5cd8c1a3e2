import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, errors, GatewayError, StoreUnavailableError } from '../errors.js';
import { renderSoapRouteFault } from '../soap/fault.js';
import { GATEWAY_ANSWER_HEADERS } from './answer-headers.js';

// The one place errors become responses. Every failure is a GatewayError by the time it is
// rendered: store outages become session_store_unavailable, fastify's own 4xx keep their
// status with a stable code, anything unexpected is logged and answered as a plain 500.

export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof StoreUnavailableError) return errors.sessionStoreUnavailable({ cause: error });
  const status = (error as Partial<FastifyError> | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return errors.payloadTooLarge();
    return new GatewayError('invalid_request', status, { description: (error as Error).message });
  }
  return errors.internal({ cause: error });
}

export type ErrorRenderer = (reply: FastifyReply, error: GatewayError) => FastifyReply;

export const renderJson: ErrorRenderer = (reply, error) =>
  reply
    .status(error.status)
    .headers(GATEWAY_ANSWER_HEADERS)
    .headers(error.headers)
    .type('application/json; charset=utf-8')
    .send(error.toJSON());

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const gatewayError = toGatewayError(error);
    // the client went away, or was cut off by server.requestTimeout (its 408 is already
    // written): an upstream call broke off because of that, not because of the upstream
    const clientGone = request.raw.socket?.destroyed === true && gatewayError.code !== 'internal_error';
    if (clientGone) request.log.debug({ code: gatewayError.code }, 'client connection closed before the answer');
    else if (gatewayError.status >= 500) {
      // one line per failure: the expected ones (store, IdP, upstream away) as warnings, a
      // bug as an error with its stack
      const fields = { code: gatewayError.code, cause: describeError(gatewayError.cause ?? error) };
      if (gatewayError.code !== 'internal_error') request.log.warn(fields, 'request failed');
      else request.log.error({ ...fields, stack: error instanceof Error ? error.stack : undefined }, 'unexpected error');
    }
    return renderSoapRouteFault(request, reply, gatewayError) ?? renderJson(reply, gatewayError);
  });
  app.setNotFoundHandler((_request, reply) => renderJson(reply, errors.notFound()));
}
