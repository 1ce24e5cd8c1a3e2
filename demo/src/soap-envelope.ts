// Reads what the demo SOAP service needs from a request envelope, with saxes (a
// namespace-aware streaming parser; a DOCTYPE is refused, so no entity is ever expanded):
// the SOAP version, the operation (the first child of Body), the text of the operation's
// child elements, and the wsse:BinarySecurityToken of the Header.
import { SaxesParser, type SaxesTagNS } from 'saxes';

export type SoapVersion = '1.1' | '1.2';

// Written out again rather than imported from src/soap: the demo service stands for a
// backend the gateway does not control, so a wrong constant there cannot hide here.
export const SOAP_11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP_12_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';

export interface SoapRequest {
  version: SoapVersion;
  operation: { namespace: string; local: string };
  /** text of the operation's child elements, by local name (the first of each name) */
  params: Map<string, string>;
  /** the text of Header/wsse:Security/wsse:BinarySecurityToken (base64), when there is one */
  binarySecurityToken?: string;
}

/** The request is not a SOAP envelope this service can read; `version` when it was known. */
export class SoapParseError extends Error {
  constructor(message: string, readonly version?: SoapVersion) {
    super(message);
    this.name = 'SoapParseError';
  }
}

const MAX_DEPTH = 32;

type Where = 'envelope' | 'header' | 'security' | 'body' | 'operation' | 'other';

export function parseSoapRequest(xml: string): SoapRequest {
  const parser = new SaxesParser({ xmlns: true });
  let version: SoapVersion | undefined;
  let operation: SoapRequest['operation'] | undefined;
  const params = new Map<string, string>();
  let binarySecurityToken: string | undefined;
  const stack: Where[] = [];
  /** the element whose text is being read, by its depth (its own child elements add nothing) */
  let collecting: { depth: number; text: string; done: (text: string) => void } | undefined;

  const fail = (message: string): never => {
    throw new SoapParseError(message, version);
  };
  const isSoap = (tag: SaxesTagNS, local: string) =>
    tag.local === local && tag.uri === (version === '1.2' ? SOAP_12_NS : SOAP_11_NS);

  parser.on('doctype', () => fail('a DOCTYPE is not allowed'));
  parser.on('opentag', (tag) => {
    if (stack.length >= MAX_DEPTH) fail('the envelope is nested too deeply');
    const parent = stack.at(-1);
    let where: Where = 'other';
    if (parent === undefined) {
      if (tag.local !== 'Envelope' || (tag.uri !== SOAP_11_NS && tag.uri !== SOAP_12_NS)) fail('not a SOAP envelope');
      version = tag.uri === SOAP_12_NS ? '1.2' : '1.1';
      where = 'envelope';
    } else if (parent === 'envelope' && isSoap(tag, 'Header')) {
      where = 'header';
    } else if (parent === 'envelope' && isSoap(tag, 'Body')) {
      where = 'body';
    } else if (parent === 'header' && tag.uri === WSSE_NS && tag.local === 'Security') {
      where = 'security';
    } else if (parent === 'security' && tag.uri === WSSE_NS && tag.local === 'BinarySecurityToken') {
      collecting = { depth: stack.length, text: '', done: (text) => (binarySecurityToken ??= text.trim()) };
    } else if (parent === 'body' && !operation) {
      operation = { namespace: tag.uri, local: tag.local };
      where = 'operation';
    } else if (parent === 'operation' && !params.has(tag.local)) {
      const name = tag.local;
      collecting = { depth: stack.length, text: '', done: (text) => params.set(name, text.trim()) };
    }
    stack.push(where);
  });
  const addText = (text: string) => {
    if (collecting && stack.length === collecting.depth + 1) collecting.text += text;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    stack.pop();
    if (collecting && stack.length === collecting.depth) {
      collecting.done(collecting.text);
      collecting = undefined;
    }
  });

  try {
    parser.write(xml).close();
  } catch (e) {
    if (e instanceof SoapParseError) throw e;
    throw new SoapParseError(`malformed XML: ${e instanceof Error ? e.message : String(e)}`, version);
  }
  if (!version) return fail('not a SOAP envelope');
  if (!operation) return fail('the Body holds no operation');
  return { version, operation, params, ...(binarySecurityToken === undefined ? {} : { binarySecurityToken }) };
}
