import type { SoapConfig } from '../config/types.js';
import { errors } from '../errors.js';
import { decodeEnvelope, type EnvelopeText } from './encoding.js';
import { parseEnvelope, type EnvelopeMap } from './envelope.js';
import { planEdits } from './inject.js';
import { checkOperation } from './operations.js';
import { splice } from './splice.js';
import type { SoapVersion } from './version.js';

// The entry points for a SOAP route's POST body. Both throw GatewayErrors only:
// invalid_soap_envelope (400), soap_operation_not_allowed (400), payload_too_large (413).

/** What the request says beside its body. */
export interface RequestFacts {
  /** the SOAP actions it names (SOAPAction header, 1.2 `action` parameter), for `soap.operations` */
  actions?: readonly string[];
  /** told the envelope's version once it is known (a later refusal's Fault speaks it) */
  seen?: (version: SoapVersion) => void;
}

export interface PreparedSoapBody {
  /** the bytes to forward: the client's, with the token spliced in */
  body: Buffer;
  version: SoapVersion;
}

/**
 * Writes `token` into the envelope as `soap.inject` says, replacing any token-bearing
 * element the client sent. `token` undefined: nothing is written, and the client's
 * token-bearing elements are removed all the same.
 */
export function prepareSoapBody(
  body: Buffer,
  contentType: string | undefined,
  soap: SoapConfig,
  token: string | undefined,
  facts: RequestFacts = {},
): PreparedSoapBody {
  const { decoded, map } = read(body, contentType, soap, facts);
  const edits = planEdits(map, soap, token);
  return { body: edits.length === 0 ? body : splice(body, decoded, edits), version: map.version };
}

/** Validates the envelope without changing it (routes with `token: none`). */
export function checkSoapBody(body: Buffer, contentType: string | undefined, soap: SoapConfig, facts: RequestFacts = {}): SoapVersion {
  return read(body, contentType, soap, facts).map.version;
}

function read(
  body: Buffer,
  contentType: string | undefined,
  soap: SoapConfig,
  facts: RequestFacts,
): { decoded: EnvelopeText; map: EnvelopeMap } {
  if (body.length > soap.maxBytes) throw errors.payloadTooLarge();
  if (body.length === 0) throw errors.invalidSoapEnvelope('the body is empty; a SOAP envelope was expected');
  const decoded = decodeEnvelope(body, contentType);
  const map = parseEnvelope(decoded.text);
  if (soap.version !== 'auto' && map.version !== soap.version) {
    throw errors.invalidSoapEnvelope(`a SOAP ${map.version} envelope on a SOAP ${soap.version} route`);
  }
  facts.seen?.(map.version);
  checkOperation(map, soap.operations, facts.actions ?? []);
  return { decoded, map };
}
