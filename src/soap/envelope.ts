import { SaxesParser, type SaxesTagNS } from 'saxes';
import { errors, GatewayError } from '../errors.js';
import { versionOfNamespace, type SoapVersion } from './version.js';

// Parses an envelope with saxes (namespaces on, DTDs refused) and reports where its parts
// are: string indexes of the Envelope, the Header and its blocks, the Body, the operation
// (the Body's first child) and the operation's children. Nothing is re-serialised: the
// injector splices at these positions.

/** Nesting deeper than this is refused (an envelope is rarely a tenth as deep). */
export const MAX_DEPTH = 128;
/** More attributes (namespace declarations included) on one element are refused. */
export const MAX_ATTRIBUTES = 256;

export interface ElementSpan {
  /** the name as written, e.g. "soap:Header" */
  qname: string;
  prefix: string;
  local: string;
  /** namespace URI, "" for none */
  uri: string;
  /** index of the start tag's "<" */
  start: number;
  /** index just after the start tag's ">" */
  openEnd: number;
  selfClosing: boolean;
  /** index of the end tag's "<" (openEnd when self-closing) */
  closeStart: number;
  /** index just after the element */
  end: number;
  /** the default namespace in scope inside the element, "" for none */
  innerDefaultNs: string;
}

export interface ParentSpan extends ElementSpan {
  /** child elements, in document order */
  children: ElementSpan[];
}

export interface EnvelopeMap {
  version: SoapVersion;
  envelope: ElementSpan;
  header: ParentSpan | undefined;
  body: ElementSpan;
  /** the first child element of Body */
  operation: ParentSpan | undefined;
}

type Role = 'envelope' | 'header' | 'body' | 'operation' | 'other';
interface Frame { role: Role; span: ElementSpan; children: ElementSpan[] | undefined }

const invalid = (why: string) => errors.invalidSoapEnvelope(why);

export function parseEnvelope(text: string): EnvelopeMap {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: Frame[] = [];
  let version: SoapVersion | undefined;
  let envelope: ElementSpan | undefined;
  let header: ParentSpan | undefined;
  let body: ElementSpan | undefined;
  let operation: ParentSpan | undefined;
  let envelopeChildren = 0;

  parser.on('doctype', () => {
    throw invalid('a DOCTYPE is not allowed (no DTDs, no entities)');
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (stack.length >= MAX_DEPTH) throw invalid(`elements nested deeper than ${MAX_DEPTH}`);
    if (Object.keys(tag.attributes).length > MAX_ATTRIBUTES) throw invalid(`more than ${MAX_ATTRIBUTES} attributes on one element`);
    const openEnd = parser.position;
    const parent = stack.at(-1);
    let role: Role = 'other';
    if (parent === undefined) {
      version = tag.local === 'Envelope' ? versionOfNamespace(tag.uri) : undefined;
      if (version === undefined) throw invalid('the document is not a SOAP 1.1 or 1.2 Envelope');
      role = 'envelope';
    } else if (parent.role === 'envelope') {
      role = envelopeChild(tag, envelopeChildren++, header !== undefined, body !== undefined, parent.span.uri);
    } else if (parent.role === 'body' && operation === undefined) {
      role = 'operation';
    }
    const span: ElementSpan = {
      qname: tag.name,
      prefix: tag.prefix,
      local: tag.local,
      uri: tag.uri,
      start: text.lastIndexOf('<', openEnd - 1),
      openEnd,
      selfClosing: tag.isSelfClosing,
      closeStart: openEnd,
      end: openEnd,
      innerDefaultNs: parser.resolve('') ?? '',
    };
    let frame: Frame = { role, span, children: undefined };
    if (role === 'header' || role === 'operation') {
      const withChildren: ParentSpan = { ...span, children: [] };
      if (role === 'header') header = withChildren;
      else operation = withChildren;
      frame = { role, span: withChildren, children: withChildren.children };
    }
    if (role === 'envelope') envelope = span;
    if (role === 'body') body = span;
    parent?.children?.push(frame.span);
    stack.push(frame);
  });
  parser.on('closetag', () => {
    const frame = stack.pop();
    if (frame === undefined) return;
    const end = parser.position;
    frame.span.end = end;
    frame.span.closeStart = frame.span.selfClosing ? end : text.lastIndexOf('<', end - 1);
  });

  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    throw invalid(`malformed XML: ${e instanceof Error ? e.message.slice(0, 200) : 'unreadable'}`);
  }
  if (!envelope || !version) throw invalid('the document is not a SOAP Envelope');
  if (!body) throw invalid('the Envelope has no Body');
  return { version, envelope, header, body, operation };
}

/** Header (first, at most once), then exactly one Body; anything may follow the Body. */
function envelopeChild(tag: SaxesTagNS, index: number, headerSeen: boolean, bodySeen: boolean, envNs: string): Role {
  const isEnv = tag.uri === envNs;
  if (isEnv && tag.local === 'Header') {
    if (index !== 0) throw invalid('the Header must be the first child of the Envelope, and appear once');
    return 'header';
  }
  if (isEnv && tag.local === 'Body') {
    if (bodySeen) throw invalid('the Envelope has more than one Body');
    if (index > (headerSeen ? 1 : 0)) throw invalid('only a Header may come before the Body');
    return 'body';
  }
  if (!bodySeen) throw invalid('only a Header may come before the Body');
  return 'other';
}
