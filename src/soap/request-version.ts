import type { FastifyRequest } from 'fastify';
import type { SoapConfig } from '../config/types.js';
import { soapVersionOf, type SoapVersion } from './version.js';

// Which SOAP version a request's faults speak: the route's fixed version, else what its
// envelope said (or, for a body that could not be parsed, the best guess from its content
// type and bytes), else its content type; 1.1 when nothing tells.

const seen = new WeakMap<FastifyRequest, SoapVersion>();

export function rememberSoapVersion(request: FastifyRequest, version: SoapVersion): void {
  seen.set(request, version);
}

export function faultVersion(request: FastifyRequest, soap: Pick<SoapConfig, 'version'>): SoapVersion {
  if (soap.version !== 'auto') return soap.version;
  return seen.get(request) ?? soapVersionOf(request.headers['content-type']);
}
