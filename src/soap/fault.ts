import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SoapConfig } from '../config/types.js';
import type { GatewayError } from '../errors.js';
import { faultVersion } from './request-version.js';
import { SOAP_MEDIA_TYPE, envelopeNamespace, type SoapVersion } from './version.js';
import { escapeAnyXmlText } from './xml-text.js';

// The second renderer of GatewayErrors: a SOAP Fault in the request's version, with the
// status and headers (Retry-After, Allow) the JSON rendering has. The stable error code is
// the faultstring (1.1) / Reason text (1.2), and the detail repeats it with its description.

export const ERROR_DETAIL_NS = 'urn:bff-gateway:error';

export function soapFaultXml(error: GatewayError, version: SoapVersion): string {
  const code = escapeAnyXmlText(error.code);
  const description = error.description === undefined
    ? ''
    : `<bff:description>${escapeAnyXmlText(error.description)}</bff:description>`;
  const detail = `<bff:error xmlns:bff="${ERROR_DETAIL_NS}"><bff:code>${code}</bff:code>${description}</bff:error>`;
  const ns = envelopeNamespace(version);
  if (version === '1.1') {
    const faultcode = error.fault === 'client' ? 'soap:Client' : 'soap:Server';
    return (
      `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ns}"><soap:Body><soap:Fault>` +
      `<faultcode>${faultcode}</faultcode><faultstring>${code}</faultstring><detail>${detail}</detail>` +
      '</soap:Fault></soap:Body></soap:Envelope>'
    );
  }
  const value = error.fault === 'client' ? 'env:Sender' : 'env:Receiver';
  return (
    `<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="${ns}"><env:Body><env:Fault>` +
    `<env:Code><env:Value>${value}</env:Value></env:Code>` +
    `<env:Reason><env:Text xml:lang="en">${code}</env:Text></env:Reason><env:Detail>${detail}</env:Detail>` +
    '</env:Fault></env:Body></env:Envelope>'
  );
}

export function renderSoapFault(reply: FastifyReply, error: GatewayError, version: SoapVersion): FastifyReply {
  return reply
    .status(error.status)
    .headers(error.headers)
    .type(`${SOAP_MEDIA_TYPE[version]}; charset=utf-8`)
    .send(soapFaultXml(error, version));
}

/** The SOAP config of the route a request matched, when it is a SOAP route. */
export function soapRouteOf(request: FastifyRequest): SoapConfig | undefined {
  return (request.routeOptions.config as { soap?: SoapConfig } | undefined)?.soap;
}

/** Renders `error` as a Fault when `request` is on a SOAP route; undefined otherwise. */
export function renderSoapRouteFault(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply | undefined {
  const soap = soapRouteOf(request);
  return soap === undefined ? undefined : renderSoapFault(reply, error, faultVersion(request, soap));
}
