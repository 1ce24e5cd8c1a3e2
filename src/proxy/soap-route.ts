import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { noteUpstreamResponse } from '../observability/logger.js';
import { envelopeForUpstream, readRequestBody } from '../soap/request-envelope.js';
import { authorize } from './authorize.js';
import { forwardHeaders } from './forward-headers.js';
import { registerProxy, upstreamHeaders, type FromOptions } from './register-proxy.js';
import { isInvalidTokenChallenge } from './replay.js';

// A route with `soap`: like route.ts, but a POST body is read whole (up to soap.maxBytes),
// checked as a SOAP envelope and forwarded with the token spliced in, a new Content-Length
// and the client's Content-Type (charset and 1.2 action parameter included). GET and HEAD
// (WSDL) pass through untouched with the Authorization header. An upstream 401
// invalid_token gets one forced refresh and one replay (the envelope is held anyway).
// Errors on this route are rendered as SOAP Faults (the error handler reads config.soap).

interface SoapCall {
  token?: string;
  /** the client's envelope, as received */
  raw?: Buffer;
  /** what goes upstream: raw with the token in */
  body?: Buffer;
  started?: bigint;
}
const CALL = Symbol('bff.soapCall');
type SoapRequest = FastifyRequest & { [CALL]?: SoapCall };

const ALLOWED_METHODS = 'GET, HEAD, POST';


export async function registerSoapRoute(app: FastifyInstance, ctx: GatewayContext, route: RouteConfig): Promise<void> {
  const soap = route.soap;
  if (soap === undefined) throw new Error(`route ${route.prefix} is not a SOAP route`);
  const trustProxy = ctx.config.server.trustProxy !== false;
  const isOwnCookie = (name: string) => ctx.cookies.isOwn(name);
  const sendsToken = route.token !== 'none';
  const retries = route.retryOn401 && sendsToken;
  const histogram = ctx.metrics.upstreamDuration.labels({ route: route.prefix });
  const callOf = (request: object): SoapCall => ((request as SoapRequest)[CALL] ??= {});

  const forward = (request: FastifyRequest, reply: FastifyReply, dest: string, options: FromOptions, last: boolean) => {
    const call = callOf(request);
    // the body goes as reply-from's `body` option, which keeps the content type as given
    // (the request.body path would cut it down to its bare media type)
    const body = call.body === undefined ? {} : { body: call.body, contentType: request.headers['content-type'] ?? 'application/octet-stream' };
    return reply.from(dest, {
      ...options,
      ...body,
      onResponse: (_request, _reply, res) => {
        if (call.started !== undefined) {
          const seconds = Number(process.hrtime.bigint() - call.started) / 1e9;
          histogram.observe(seconds);
          noteUpstreamResponse(request, res.statusCode, seconds);
        }
        if (last || res.statusCode !== 401 || !isInvalidTokenChallenge(upstreamHeaders(res))) return reply.send(res.stream);
        res.stream.resume(); // this answer is dropped: drain it
        authorize(ctx, route, request, call.token).then(
          (token) => {
            call.token = token;
            if (call.raw !== undefined) call.body = envelopeForUpstream(request, call.raw, soap, sendsToken, token);
            request.log.info('upstream refused the access token (invalid_token): refreshed, replaying once');
            forward(request, reply, dest, options, true);
          },
        ).catch((error: unknown) => reply.send(error));
      },
    });
  };

  await registerProxy(app, route, {
    config: { soap },
    preHandler: async (request) => {
      const call = callOf(request);
      if (request.method === 'GET' || request.method === 'HEAD') {
        call.token = await authorize(ctx, route, request);
        return;
      }
      if (request.method !== 'POST') throw errors.methodNotAllowed(ALLOWED_METHODS);
      // a declared oversize is refused before anything is read
      if (Number(request.headers['content-length']) > soap.maxBytes) throw errors.payloadTooLarge();
      call.token = await authorize(ctx, route, request);
      call.raw = await readRequestBody(request, soap.maxBytes, route.timeoutMs);
      call.body = envelopeForUpstream(request, call.raw, soap, sendsToken, call.token);
    },
    forward: (request, reply, dest, options) => forward(request, reply, dest, options, !retries),
    rewriteRequestHeaders: (request, headers) => {
      const call = callOf(request);
      call.started = process.hrtime.bigint();
      const out = forwardHeaders(request, headers, { isOwnCookie, sendsToken, trustProxy, accessToken: call.token });
      if (call.body !== undefined) {
        delete out['transfer-encoding'];
        if (request.headers['content-type'] === undefined) delete out['content-type'];
      }
      return out;
    },
  });
}
