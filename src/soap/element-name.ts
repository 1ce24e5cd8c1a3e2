import type { ElementSpan } from './envelope.js';

// The `element` setting of a SOAP route: "{namespace-uri}local" (Clark notation) names one
// element exactly; a plain local name matches that local name in any namespace.

export interface ElementName {
  local: string;
  /** undefined: any namespace (plain local name); "" : no namespace */
  ns: string | undefined;
}

export function parseElementName(name: string): ElementName {
  const clark = /^\{([^{}]*)\}(.+)$/.exec(name);
  return clark ? { ns: clark[1]!, local: clark[2]! } : { ns: undefined, local: name };
}

export function matches(name: ElementName, span: Pick<ElementSpan, 'local' | 'uri'>): boolean {
  return span.local === name.local && (name.ns === undefined || name.ns === span.uri);
}
