// SOAP 1.1 and 1.2: their envelope namespaces and media types, and how a request says
// which one it speaks when its envelope cannot tell (faults for unparsable bodies).

export type SoapVersion = '1.1' | '1.2';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';

export const SOAP_MEDIA_TYPE: Readonly<Record<SoapVersion, string>> = {
  '1.1': 'text/xml',
  '1.2': 'application/soap+xml',
};

export function envelopeNamespace(version: SoapVersion): string {
  return version === '1.1' ? SOAP11_NS : SOAP12_NS;
}

/** The SOAP version of an Envelope element's namespace URI; undefined for any other. */
export function versionOfNamespace(uri: string): SoapVersion | undefined {
  if (uri === SOAP11_NS) return '1.1';
  if (uri === SOAP12_NS) return '1.2';
  return undefined;
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/**
 * The version a request speaks, as best as can be told without parsing: the media type
 * (application/soap+xml is 1.2, text/xml is 1.1), else the 1.2 namespace near the start of
 * the body, else 1.1 (the contract's default for faults).
 */
export function soapVersionOf(contentType: string | undefined, body?: Buffer): SoapVersion {
  const type = mediaType(contentType);
  if (type === SOAP_MEDIA_TYPE['1.2']) return '1.2';
  if (type === SOAP_MEDIA_TYPE['1.1']) return '1.1';
  if (body !== undefined && body.subarray(0, 4096).includes(SOAP12_NS)) return '1.2';
  return '1.1';
}
