import { SaxesParser } from 'saxes';
import { errors } from '../errors.js';
import { WSSE_NS } from './wsse.js';

// soap.tokenType saml2: the route's token is a SAML 2.0 assertion from a token exchange
// (RFC 8693 §3: base64url of the XML). It goes into wsse:Security as the XML element itself
// (WS-Security SAML Token Profile 1.1), copied exactly as issued: its enveloped signature is
// over the element, so not one character may change. It is checked before it is written: one
// saml2:Assertion element, no DOCTYPE, no processing instruction, nothing after it; the XML
// declaration, if the IdP put one, is left out (it may not stand inside another document).

export const SAML2_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';

/** The assertion's XML text, as issued; a token that is not one is a 503 (the IdP's fault). */
export function samlAssertionXml(token: string): string {
  const xml = Buffer.from(token, 'base64url').toString('utf8').replace(/^\uFEFF?<\?xml[^?]*\?>/, '').trim();
  const parser = new SaxesParser({ xmlns: true });
  let root: { uri: string; local: string } | undefined;
  let problem: string | undefined;
  parser.on('doctype', () => { problem = 'a DOCTYPE'; });
  parser.on('processinginstruction', () => { problem = 'a processing instruction'; });
  parser.on('opentag', (tag) => { root ??= { uri: tag.uri, local: tag.local }; });
  try {
    parser.write(xml).close();
  } catch {
    problem = 'XML that does not parse';
  }
  if (problem === undefined && (root?.uri !== SAML2_NS || root.local !== 'Assertion')) problem = 'no saml2:Assertion';
  if (problem !== undefined) throw errors.tokenServiceUnavailable({ cause: new Error(`the exchanged SAML token holds ${problem}`) });
  return xml;
}

/** The wsse:Security block with the assertion, declaring its own wsse prefix. */
export function wsseSamlBlock(assertionXml: string): string {
  return `<wsse:Security xmlns:wsse="${WSSE_NS}">${assertionXml}</wsse:Security>`;
}
