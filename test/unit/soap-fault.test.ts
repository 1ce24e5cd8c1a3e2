import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors, type GatewayError } from '../../src/errors.js';
import { installErrorHandler } from '../../src/observability/error-handler.js';
import { soapFaultXml } from '../../src/soap/fault.js';
import { soapConfig } from '../fixtures/soap/cases.js';
import { readFault } from '../fixtures/soap/fault-reader.js';

// Each error of the contract rendered as a Fault through the real error handler, on a route
// whose config marks it as SOAP (as the SOAP route does), in both versions.

const ENV11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const ENV12 = 'http://www.w3.org/2003/05/soap-envelope';

const cases: Record<string, () => GatewayError> = {
  400: () => errors.invalidSoapEnvelope('a DOCTYPE is not allowed'),
  401: () => errors.unauthenticated(),
  403: () => errors.csrfHeaderMissing(),
  405: () => errors.methodNotAllowed('GET, HEAD, POST'),
  413: () => errors.payloadTooLarge(),
  502: () => errors.badGateway(),
  503: () => errors.tokenServiceUnavailable(),
  504: () => errors.gatewayTimeout(),
};

let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify({ logger: false });
  installErrorHandler(app);
  // as @fastify/http-proxy does: any body is handed over as the raw stream
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  const fail = async (request: { query: unknown }) => {
    throw cases[(request.query as { status: string }).status]!();
  };
  app.post('/soap', { config: { soap: soapConfig('body') } }, fail);
  app.post('/soap12', { config: { soap: soapConfig('body', { version: '1.2' }) } }, fail);
  app.post('/rest', fail);
  await app.ready();
});

afterAll(async () => app?.close());

const post = (url: string, contentType: string) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: '<x/>' });

describe('SOAP 1.1 faults (text/xml requests)', () => {
  it.each(Object.keys(cases))('%s', async (status) => {
    const error = cases[status]!();
    const res = await post(`/soap?status=${status}`, 'text/xml; charset=utf-8');
    expect(res.statusCode).toBe(Number(status));
    expect(res.headers['content-type']).toBe('text/xml; charset=utf-8');
    const fault = readFault(res.body);
    expect(fault.envelopeNs).toBe(ENV11);
    expect(fault.code).toBe(Number(status) >= 500 ? 'soap:Server' : 'soap:Client');
    expect(fault.reason).toBe(error.code);
    expect(fault.detailCode).toBe(error.code);
    expect(fault.detailDescription).toBe(error.description);
    for (const [name, value] of Object.entries(error.headers)) expect(res.headers[name]).toBe(value);
  });
});

describe('SOAP 1.2 faults (application/soap+xml requests)', () => {
  it.each(Object.keys(cases))('%s', async (status) => {
    const error = cases[status]!();
    const res = await post(`/soap?status=${status}`, 'application/soap+xml; charset=utf-8; action="urn:GetSecret"');
    expect(res.statusCode).toBe(Number(status));
    expect(res.headers['content-type']).toBe('application/soap+xml; charset=utf-8');
    const fault = readFault(res.body);
    expect(fault.envelopeNs).toBe(ENV12);
    expect(fault.code).toBe(Number(status) >= 500 ? 'env:Receiver' : 'env:Sender');
    expect(fault.reason).toBe(error.code);
    expect(fault.detailCode).toBe(error.code);
    for (const [name, value] of Object.entries(error.headers)) expect(res.headers[name]).toBe(value);
  });
});

describe('which version and which renderer', () => {
  it('a 503 carries Retry-After, a 405 carries Allow', async () => {
    expect((await post('/soap?status=503', 'text/xml')).headers['retry-after']).toBe('5');
    expect((await post('/soap?status=405', 'text/xml')).headers.allow).toBe('GET, HEAD, POST');
  });

  it('speaks 1.1 when the request says nothing', async () => {
    const res = await post('/soap?status=401', 'application/octet-stream');
    expect(readFault(res.body).envelopeNs).toBe(ENV11);
  });

  it('speaks the route\'s fixed version whatever the content type', async () => {
    const res = await post('/soap12?status=401', 'text/xml');
    expect(res.headers['content-type']).toBe('application/soap+xml; charset=utf-8');
    expect(readFault(res.body).envelopeNs).toBe(ENV12);
  });

  it('keeps JSON on routes without soap', async () => {
    const res = await post('/rest?status=401', 'text/xml');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'unauthenticated' });
  });

  it('escapes descriptions and drops characters XML cannot carry', () => {
    const xml = soapFaultXml(errors.invalidSoapEnvelope('<b> & \u0001 "q"'), '1.1');
    expect(readFault(xml).detailDescription).toBe('<b> & ? "q"');
  });
});
