// The WS-Security header block the `wsse` mode writes: the access token, base64-encoded, in a
// BinarySecurityToken typed as a JWT (OASIS WSS 1.0 SOAP Message Security, OAuth token type).

export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
export const JWT_VALUE_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const BASE64_ENCODING_TYPE =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** The block, declaring its own wsse prefix so it fits under any Header. */
export function wsseSecurityBlock(token: string): string {
  const encoded = Buffer.from(token, 'utf8').toString('base64');
  return (
    `<wsse:Security xmlns:wsse="${WSSE_NS}">` +
    `<wsse:BinarySecurityToken ValueType="${JWT_VALUE_TYPE}" EncodingType="${BASE64_ENCODING_TYPE}">` +
    `${encoded}</wsse:BinarySecurityToken></wsse:Security>`
  );
}
