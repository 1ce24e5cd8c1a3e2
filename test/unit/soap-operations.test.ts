import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { parseEnvelope } from '../../src/soap/envelope.js';
import { checkOperation, soapActionsOf } from '../../src/soap/operations.js';

// soap.operations: which operation the check sees (the Body's first child element), how
// names match, and which SOAP actions a request names.

const S11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const map = (body: string) => parseEnvelope(`<s:Envelope xmlns:s="${S11}"><s:Body>${body}</s:Body></s:Envelope>`);
const refused = (fn: () => void) => {
  try {
    fn();
  } catch (e) {
    return e instanceof GatewayError ? `${e.status} ${e.code}` : String(e);
  }
  return 'passed';
};

describe('checkOperation', () => {
  const allowed = ['GetSecret', '{urn:ss}Op'];

  it('passes everything without a list, and a listed operation with one', () => {
    expect(refused(() => checkOperation(map('<x:Anything xmlns:x="urn:x"/>'), undefined, []))).toBe('passed');
    expect(refused(() => checkOperation(map('<a:GetSecret xmlns:a="urn:any"/>'), allowed, []))).toBe('passed');
    expect(refused(() => checkOperation(map('<Op xmlns="urn:ss"><GetSecret/></Op>'), allowed, []))).toBe('passed');
  });

  it('refuses another operation, the right name in another namespace, and an empty Body', () => {
    expect(refused(() => checkOperation(map('<DeleteSecret><GetSecret/></DeleteSecret>'), allowed, []))).toBe('400 soap_operation_not_allowed');
    expect(refused(() => checkOperation(map('<Op xmlns="urn:other"/>'), allowed, []))).toBe('400 soap_operation_not_allowed');
    expect(refused(() => checkOperation(map(' <!-- GetSecret --> '), allowed, []))).toBe('400 soap_operation_not_allowed');
  });

  it('looks at the first child only (what follows, such as SOAP 1.1 multiRef elements, is data)', () => {
    expect(refused(() => checkOperation(map('<GetSecret/><DeleteSecret/>'), allowed, []))).toBe('passed');
    expect(refused(() => checkOperation(map('<DeleteSecret/><GetSecret/>'), allowed, []))).toBe('400 soap_operation_not_allowed');
  });

  it('wants a SOAP action, when one is sent, to name the same operation', () => {
    const m = map('<GetSecret/>');
    for (const action of ['urn:thesecretserver.com/GetSecret', 'http://tempuri.org/IService/GetSecret', 'urn:x#GetSecret', 'GetSecret', '']) {
      expect(refused(() => checkOperation(m, allowed, [action]))).toBe('passed');
    }
    for (const action of ['urn:thesecretserver.com/DeleteSecret', 'urn:x/GetSecret/', 'GetSecretX']) {
      expect(refused(() => checkOperation(m, allowed, [action]))).toBe('400 soap_operation_not_allowed');
    }
  });
});

describe('soapActionsOf', () => {
  it('reads the SOAPAction header (quoted or not) and the 1.2 action parameter', () => {
    expect(soapActionsOf({})).toEqual([]);
    expect(soapActionsOf({ soapaction: '"urn:a/Op"' })).toEqual(['urn:a/Op']);
    expect(soapActionsOf({ soapaction: 'urn:a/Op' })).toEqual(['urn:a/Op']);
    expect(soapActionsOf({ soapaction: '""' })).toEqual(['']);
    expect(soapActionsOf({ 'content-type': 'application/soap+xml; charset=utf-8; action="urn:a/Op"' })).toEqual(['urn:a/Op']);
    expect(soapActionsOf({ 'content-type': 'application/soap+xml;action=urn:a/Op;charset=utf-8' })).toEqual(['urn:a/Op']);
    expect(soapActionsOf({ soapaction: '"urn:a/A"', 'content-type': 'application/soap+xml; action="urn:a/B"' })).toEqual(['urn:a/A', 'urn:a/B']);
  });
});
