import type { FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import type { SoapConfig } from '../config/types.js';
import { errors } from '../errors.js';
import { soapActionsOf } from './operations.js';
import { checkSoapBody, prepareSoapBody } from './prepare.js';
import { readBody } from '../http/read-body.js';
import { rememberSoapVersion } from './request-version.js';
import { soapVersionOf, type SoapVersion } from './version.js';

// A SOAP route's request body: read (bounded), then checked and given the token, with the
// request's SOAP version remembered for the Fault should anything fail.

/** The request body; the proxy routes' parser leaves it as the raw stream. */
export function readRequestBody(request: FastifyRequest, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const body = request.body;
  if (body === undefined || body === null) return Promise.resolve(Buffer.alloc(0));
  if (Buffer.isBuffer(body)) return Promise.resolve(body);
  if (body instanceof Readable) return readBody(body, maxBytes, timeoutMs);
  return Promise.reject(errors.invalidSoapEnvelope('the body is not a SOAP envelope'));
}

/**
 * The envelope to forward: `token` written in, or, when the route sends no token at all
 * (`token: none`), the client's envelope as it is once checked.
 */
export function envelopeForUpstream(
  request: FastifyRequest,
  raw: Buffer,
  soap: SoapConfig,
  sendsToken: boolean,
  token: string | undefined,
): Buffer {
  const contentType = request.headers['content-type'];
  let parsed = false;
  const seen = (version: SoapVersion) => {
    parsed = true;
    rememberSoapVersion(request, version);
  };
  const facts = { seen, actions: soap.operations === undefined ? [] : soapActionsOf(request.headers) };
  try {
    if (!sendsToken) {
      checkSoapBody(raw, contentType, soap, facts);
      return raw;
    }
    return prepareSoapBody(raw, contentType, soap, token, facts).body;
  } catch (error) {
    // an envelope refused after parsing (soap.operations) has its own version for the Fault
    if (!parsed) rememberSoapVersion(request, soapVersionOf(contentType, raw));
    throw error;
  }
}
