import type { IncomingHttpHeaders } from 'node:http';
import { errors } from '../errors.js';
import { matches, parseElementName } from './element-name.js';
import type { EnvelopeMap, ParentSpan } from './envelope.js';

// `soap.operations`: the allow-list of operations (the Body's first child) a route passes.
// Checked on the parsed envelope, before any edit is planned, so a refused call is answered
// with a Fault and nothing reaches the upstream. Without the list every operation passes.
//
// Many SOAP stacks (ASP.NET's .asmx among them) dispatch on the SOAP action rather than on
// the Body, so with the list set a SOAP action that is sent must name the same operation:
// its last segment (after the last "/", "#" or ":") is the operation's local name. An empty
// action ("" means "the request URI") is not checked.

export function checkOperation(map: EnvelopeMap, operations: readonly string[] | undefined, actions: readonly string[]): void {
  if (operations === undefined) return;
  const operation = map.operation;
  if (operation === undefined) throw errors.soapOperationNotAllowed('the Body holds no operation element');
  if (!operations.some((name) => matches(parseElementName(name), operation))) {
    // the name as the client wrote it (its own input), cut short; the Fault escapes it
    throw errors.soapOperationNotAllowed(`the operation ${operation.qname.slice(0, 100)} is not allowed on this route`);
  }
  for (const action of actions) {
    if (action !== '' && lastSegment(action) !== operation.local) throw mismatch(operation);
  }
}

/** The SOAP actions a request names: the SOAPAction header (1.1), the Content-Type's action parameter (1.2). */
export function soapActionsOf(headers: IncomingHttpHeaders): string[] {
  const actions: string[] = [];
  const header = headers.soapaction;
  for (const value of Array.isArray(header) ? header : header === undefined ? [] : [header]) actions.push(unquote(value));
  const parameter = /;\s*action\s*=\s*("[^"]*"|[^;\s]*)/i.exec(headers['content-type'] ?? '');
  if (parameter !== null) actions.push(unquote(parameter[1]!));
  return actions;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed;
}

function lastSegment(action: string): string {
  return action.slice(Math.max(action.lastIndexOf('/'), action.lastIndexOf('#'), action.lastIndexOf(':')) + 1);
}

function mismatch(operation: ParentSpan) {
  return errors.soapOperationNotAllowed(`the SOAP action names another operation than the Body's ${operation.qname.slice(0, 100)}`);
}
