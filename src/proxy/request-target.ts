import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, GatewayError } from '../errors.js';
import { renderJson, toGatewayError } from '../observability/error-handler.js';

// Only origin-form request targets (RFC 9112 §3.2.1: a path and an optional query) reach
// the gateway's routes. fastify's router strips the scheme and host of an absolute-form
// target (`GET http://other.host/api/x`) and routes its path, so without this check such a
// call was forwarded (token attached) with the foreign target. A fragment is not part of
// any request target either; `*` (asterisk-form) is for OPTIONS only.
//
// An onRequest hook on the root instance, rather than fastify's rewriteUrl (which can only
// return another URL, not answer) or frameworkErrors (which sees only the targets the
// router itself refuses, and the router accepts absolute-form): it runs for every route and
// for the not-found handler, before any body is read, any session is looked up or anything
// is forwarded, and its error is rendered by the error handler like any other (400
// invalid_request). Its cost: one hook call, one character test and a scan for "#".

export function isOriginForm(url: string): boolean {
  return url.charCodeAt(0) === 47 && !url.includes('#');
}

export function refuseNonOriginTargets(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const url = request.url;
    if (isOriginForm(url) || (url === '*' && request.method === 'OPTIONS')) done();
    else done(errors.invalidRequest('the request target must be a path (origin-form)'));
  });
}

/**
 * The targets the router itself refuses (a broken percent-escape: FST_ERR_BAD_URL; an
 * over-long parameter) answered as every other error: `{"error":"invalid_request"}` with
 * fastify's status, rather than fastify's own body. fastify's `frameworkErrors` option.
 */
export function renderFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode;
  const refused =
    status !== undefined && status >= 400 && status < 500
      ? new GatewayError('invalid_request', status, { description: 'the request target cannot be routed (malformed percent-escape or over-long segment)' })
      : toGatewayError(error);
  void renderJson(reply, refused);
}
