import type { FastifyInstance } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { envelopeForUpstream, readRequestBody } from '../soap/request-envelope.js';
import { authorize } from './authorize.js';
import { registerProxy } from './register-proxy.js';

// A route with `soap`: like route.ts, but a POST body is read whole (up to soap.maxBytes),
// checked as a SOAP envelope and forwarded with the token spliced in, a new Content-Length
// and the client's Content-Type (charset and 1.2 action parameter included). GET and HEAD
// (WSDL) pass through untouched with the Authorization header. An upstream 401
// invalid_token gets one forced refresh and one replay (the envelope is held anyway).
// Errors on this route are rendered as SOAP Faults (the error handler reads config.soap).

const ALLOWED_METHODS = 'GET, HEAD, POST';

export function registerSoapRoute(app: FastifyInstance, ctx: GatewayContext, route: RouteConfig): Promise<void> {
  const soap = route.soap;
  if (soap === undefined) throw new Error(`route ${route.prefix} is not a SOAP route`);
  const sendsToken = route.token !== 'none';
  return registerProxy(app, ctx, route, {
    config: { soap },
    prepare: async (request, call) => {
      call.replayable = true;
      // a SAML assertion travels in wsse:Security only
      call.bodyOnly = soap.tokenType === 'saml2';
      if (request.method === 'GET' || request.method === 'HEAD') {
        call.token = await authorize(ctx, route, request, call);
        return;
      }
      if (request.method !== 'POST') throw errors.methodNotAllowed(ALLOWED_METHODS);
      // a declared oversize is refused before anything is read
      if (Number(request.headers['content-length']) > soap.maxBytes) throw errors.payloadTooLarge();
      call.token = await authorize(ctx, route, request, call);
      const raw = await readRequestBody(request, soap.maxBytes, route.timeoutMs);
      call.bodyWithToken = (token) => envelopeForUpstream(request, raw, soap, sendsToken, token);
      call.body = call.bodyWithToken(call.token);
    },
  });
}
