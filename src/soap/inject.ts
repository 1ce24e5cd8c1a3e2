import type { SoapConfig } from '../config/types.js';
import { errors } from '../errors.js';
import { matches, parseElementName, type ElementName } from './element-name.js';
import type { ElementSpan, EnvelopeMap, ParentSpan } from './envelope.js';
import type { Edit } from './splice.js';
import { samlAssertionXml, wsseSamlBlock } from './saml.js';
import { WSSE_NS, wsseSecurityBlock } from './wsse.js';
import { escapeXmlAttribute, escapeXmlText } from './xml-text.js';

// Where the token goes, as edits at parser-found positions (the contract's three modes).
// Whatever token-bearing element the client sent is overwritten or removed, never passed on.
// With no token to write (an anonymous caller on a route that does not require a session),
// the client's token-bearing elements are removed (body mode: emptied) all the same.

export function planEdits(map: EnvelopeMap, soap: Pick<SoapConfig, 'inject' | 'element' | 'tokenType'>, token: string | undefined): Edit[] {
  switch (soap.inject) {
    case 'wsse':
      return wsseEdits(map, token, soap.tokenType);
    case 'header':
      return headerEdits(map, parseElementName(soap.element), token);
    case 'body':
      return bodyEdits(map, parseElementName(soap.element), token);
  }
}

function wsseEdits(map: EnvelopeMap, token: string | undefined, tokenType: SoapConfig['tokenType']): Edit[] {
  const sent = map.header?.children.filter((el) => el.uri === WSSE_NS && el.local === 'Security') ?? [];
  if (token === undefined) return sent.map(remove);
  const block = tokenType === 'saml2' ? wsseSamlBlock(samlAssertionXml(token)) : wsseSecurityBlock(token);
  const [first, ...rest] = sent;
  if (first === undefined) return [intoHeader(map, block)];
  return [{ start: first.start, end: first.end, text: block }, ...rest.map(remove)];
}

function headerEdits(map: EnvelopeMap, name: ElementName, token: string | undefined): Edit[] {
  const sent = map.header?.children.filter((el) => matches(name, el)) ?? [];
  if (token === undefined) return sent.map(remove);
  const text = escapeXmlText(token);
  if (sent.length > 0) return sent.map((el) => setContent(el, text));
  // a plain local name makes an element in no namespace (header blocks rarely want that:
  // name one with "{uri}local")
  const defaultNs = (map.header ?? map.envelope).innerDefaultNs;
  return [intoHeader(map, element(name.local, name.ns ?? '', text, defaultNs))];
}

function bodyEdits(map: EnvelopeMap, name: ElementName, token: string | undefined): Edit[] {
  const operation = map.operation;
  if (operation === undefined) throw errors.invalidSoapEnvelope('the Body holds no operation element');
  const sent = operation.children.filter((el) => matches(name, el));
  const text = token === undefined ? '' : escapeXmlText(token);
  if (sent.length > 0) return sent.filter((el) => text !== '' || !el.selfClosing).map((el) => setContent(el, text));
  if (token === undefined) return [];
  return [prependChild(operation, parameter(operation, name, text))];
}

/** A new operation parameter: in the operation's namespace unless the name says otherwise. */
function parameter(operation: ParentSpan, name: ElementName, text: string): string {
  if (name.ns !== undefined && name.ns !== operation.uri) return element(name.local, name.ns, text, operation.innerDefaultNs);
  const qname = operation.prefix === '' ? name.local : `${operation.prefix}:${name.local}`;
  return `<${qname}>${text}</${qname}>`;
}

/** An unprefixed element in namespace `ns` ("" for none), declaring it only when needed. */
function element(local: string, ns: string, text: string, defaultNsInScope: string): string {
  const declaration = ns === defaultNsInScope ? '' : ` xmlns="${escapeXmlAttribute(ns)}"`;
  return `<${local}${declaration}>${text}</${local}>`;
}

/** `xml` as the first block of the Header; a Header (with the Envelope's prefix) is created when there is none. */
function intoHeader(map: EnvelopeMap, xml: string): Edit {
  if (map.header !== undefined) return prependChild(map.header, xml);
  const prefix = map.envelope.prefix === '' ? '' : `${map.envelope.prefix}:`;
  return prependChild(map.envelope, `<${prefix}Header>${xml}</${prefix}Header>`);
}

/** Inserts `xml` as the first content of `el` (opening a self-closing one). */
function prependChild(el: ElementSpan, xml: string): Edit {
  return el.selfClosing ? setContent(el, xml) : { start: el.openEnd, end: el.openEnd, text: xml };
}

/** Replaces the whole content of `el` (text, CDATA, comments, children) with `text`. */
function setContent(el: ElementSpan, text: string): Edit {
  // a self-closing tag ends in "/>" (XML allows nothing between the two)
  if (el.selfClosing) return { start: el.openEnd - 2, end: el.openEnd, text: `>${text}</${el.qname}>` };
  return { start: el.openEnd, end: el.closeStart, text };
}

function remove(el: ElementSpan): Edit {
  return { start: el.start, end: el.end, text: '' };
}
