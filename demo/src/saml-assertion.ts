// SAML 2.0 assertions for the demo identity provider's token exchange (requested_token_type
// urn:ietf:params:oauth:token-type:saml2), and their check by the demo SOAP service: an
// Assertion (Issuer, Subject/NameID bearer, Conditions with an AudienceRestriction, an
// AuthnStatement) with an enveloped XML signature (RSA-SHA256, exclusive c14n) after the
// Issuer, signed with xml-crypto. The check verifies the signature with the IdP's public key
// and then reads only what the signature covers (xml-crypto's signed references), so an
// element slipped in beside the signed one is never believed.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

export const SAML2_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

export interface SamlKeys {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function newSamlKeys(): SamlKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A signed assertion about `subject` for `audience`, issued by `issuer`. */
export function mintSamlAssertion(keys: SamlKeys, issuer: string, subject: string, audience: string, lifetimeSeconds: number): string {
  const now = new Date();
  const until = new Date(now.getTime() + lifetimeSeconds * 1000).toISOString();
  const id = `_${randomUUID()}`;
  const xml =
    `<saml2:Assertion xmlns:saml2="${SAML2_NS}" ID="${id}" IssueInstant="${now.toISOString()}" Version="2.0">` +
    `<saml2:Issuer>${escape(issuer)}</saml2:Issuer>` +
    `<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${escape(subject)}</saml2:NameID>` +
    `<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"/></saml2:Subject>` +
    `<saml2:Conditions NotBefore="${now.toISOString()}" NotOnOrAfter="${until}">` +
    `<saml2:AudienceRestriction><saml2:Audience>${escape(audience)}</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>` +
    `<saml2:AuthnStatement AuthnInstant="${now.toISOString()}"><saml2:AuthnContext>` +
    `<saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef>` +
    `</saml2:AuthnContext></saml2:AuthnStatement></saml2:Assertion>`;
  const sig = new SignedXml({
    privateKey: keys.privateKeyPem,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({
    xpath: `//*[local-name(.)='Assertion' and namespace-uri(.)='${SAML2_NS}']`,
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N],
  });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `//*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sig.getSignedXml();
}

export type SamlVerdict = { subject: string } | { invalid: string };

/**
 * The subject of the SAML assertion in `xml` (a whole SOAP envelope), when its signature
 * verifies with `publicKeyPem`, it names `audience` and it is within its validity.
 * undefined: no assertion in the document.
 */
export function checkSamlAssertion(xml: string, publicKeyPem: string, audience: string): SamlVerdict | undefined {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const assertions = doc.getElementsByTagNameNS(SAML2_NS, 'Assertion');
  if (assertions.length === 0) return undefined;
  if (assertions.length > 1) return { invalid: 'more than one assertion' };
  const signature = assertions[0]!.getElementsByTagNameNS(DSIG_NS, 'Signature')[0];
  if (!signature) return { invalid: 'the assertion is not signed' };
  const sig = new SignedXml({ publicCert: publicKeyPem });
  sig.loadSignature(signature as unknown as Node);
  let valid = false;
  try {
    valid = sig.checkSignature(xml);
  } catch {
    valid = false;
  }
  const signed = sig.getSignedReferences();
  if (!valid || signed.length !== 1) return { invalid: 'the signature does not verify' };
  // read only what was signed
  const assertion = new DOMParser().parseFromString(signed[0]!, 'text/xml').documentElement;
  if (!assertion || assertion.localName !== 'Assertion' || assertion.namespaceURI !== SAML2_NS) return { invalid: 'the signed element is not the assertion' };
  const text = (name: string) => assertion.getElementsByTagNameNS(SAML2_NS, name)[0]?.textContent ?? undefined;
  const audiences = Array.from(assertion.getElementsByTagNameNS(SAML2_NS, 'Audience')).map((a) => a.textContent);
  if (!audiences.includes(audience)) return { invalid: 'the assertion is for another audience' };
  const conditions = assertion.getElementsByTagNameNS(SAML2_NS, 'Conditions')[0];
  const until = Date.parse(conditions?.getAttribute('NotOnOrAfter') ?? '');
  const from = Date.parse(conditions?.getAttribute('NotBefore') ?? '');
  const now = Date.now();
  if (!(until > now) || from > now + 60_000) return { invalid: 'the assertion is outside its validity' };
  const subject = text('NameID');
  return subject ? { subject } : { invalid: 'the assertion names no subject' };
}
