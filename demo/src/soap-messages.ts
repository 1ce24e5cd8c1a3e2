// The messages the demo SOAP service answers with: response envelopes, Faults (SOAP 1.1
// and 1.2, with the HTTP status and content type of each binding) and a small WSDL.
import { SOAP_11_NS, SOAP_12_NS, type SoapVersion } from './soap-envelope.js';

export const DEMO_SOAP_NS = 'urn:bff-gateway:demo:secrets';

export interface SoapAnswer {
  status: number;
  contentType: string;
  body: string;
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const contentType = (version: SoapVersion) =>
  version === '1.2' ? 'application/soap+xml; charset=utf-8' : 'text/xml; charset=utf-8';

function envelope(version: SoapVersion, body: string): string {
  const ns = version === '1.2' ? SOAP_12_NS : SOAP_11_NS;
  return `<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="${ns}"><soap:Body>${body}</soap:Body></soap:Envelope>\n`;
}

/** A response of `operation`: `<operationResponse><operationResult>fields…` in the demo namespace. */
export function soapResponse(version: SoapVersion, operation: string, fields: Record<string, string | number | boolean>): SoapAnswer {
  const inner = Object.entries(fields).map(([name, value]) => `<${name}>${escapeXml(String(value))}</${name}>`).join('');
  const body = `<${operation}Response xmlns="${DEMO_SOAP_NS}"><${operation}Result>${inner}</${operation}Result></${operation}Response>`;
  return { status: 200, contentType: contentType(version), body: envelope(version, body) };
}

/**
 * A Fault. `sender`: the request was at fault (1.1 soap:Client; 1.2 env:Sender, HTTP 400);
 * otherwise the service (soap:Server / env:Receiver). SOAP 1.1 answers every Fault with 500.
 */
export function soapFault(version: SoapVersion, sender: boolean, reason: string, status?: number): SoapAnswer {
  const text = escapeXml(reason);
  const body = version === '1.2'
    ? `<soap:Fault><soap:Code><soap:Value>soap:${sender ? 'Sender' : 'Receiver'}</soap:Value></soap:Code>`
      + `<soap:Reason><soap:Text xml:lang="en">${text}</soap:Text></soap:Reason></soap:Fault>`
    : `<soap:Fault><faultcode>soap:${sender ? 'Client' : 'Server'}</faultcode><faultstring>${text}</faultstring></soap:Fault>`;
  const defaultStatus = version === '1.2' && sender ? 400 : 500;
  return { status: status ?? defaultStatus, contentType: contentType(version), body: envelope(version, body) };
}

/** WSDL 1.1 of the two operations, with a SOAP 1.1 and a SOAP 1.2 binding at `address`. */
export function demoWsdl(address: string): string {
  const operations = [
    { name: 'GetSecret', input: '<s:element name="token" type="s:string"/><s:element name="secretId" type="s:int"/>',
      output: '<s:element name="Subject" type="s:string"/><s:element name="TokenReceived" type="s:boolean"/>'
        + '<s:element name="SecretId" type="s:int"/><s:element name="SecretName" type="s:string"/>' },
    { name: 'WhoAmI', input: '',
      output: '<s:element name="Subject" type="s:string"/><s:element name="TokenReceived" type="s:boolean"/>' },
  ];
  const types = operations.map((op) =>
    `<s:element name="${op.name}"><s:complexType><s:sequence>${op.input}</s:sequence></s:complexType></s:element>`
    + `<s:element name="${op.name}Response"><s:complexType><s:sequence><s:element name="${op.name}Result"><s:complexType>`
    + `<s:sequence>${op.output}</s:sequence></s:complexType></s:element></s:sequence></s:complexType></s:element>`).join('\n      ');
  const messages = operations.map((op) =>
    `<wsdl:message name="${op.name}In"><wsdl:part name="parameters" element="tns:${op.name}"/></wsdl:message>\n  `
    + `<wsdl:message name="${op.name}Out"><wsdl:part name="parameters" element="tns:${op.name}Response"/></wsdl:message>`).join('\n  ');
  const portOps = operations.map((op) =>
    `<wsdl:operation name="${op.name}"><wsdl:input message="tns:${op.name}In"/><wsdl:output message="tns:${op.name}Out"/></wsdl:operation>`).join('');
  const binding = (name: string, prefix: string) => `<wsdl:binding name="${name}" type="tns:DemoSecretsPort">
    <${prefix}:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    ${operations.map((op) => `<wsdl:operation name="${op.name}"><${prefix}:operation soapAction="${DEMO_SOAP_NS}/${op.name}" style="document"/>`
      + `<wsdl:input><${prefix}:body use="literal"/></wsdl:input><wsdl:output><${prefix}:body use="literal"/></wsdl:output></wsdl:operation>`).join('\n    ')}
  </wsdl:binding>`;
  const where = escapeXml(address);
  return `<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:s="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="${DEMO_SOAP_NS}" targetNamespace="${DEMO_SOAP_NS}">
  <wsdl:types>
    <s:schema elementFormDefault="qualified" targetNamespace="${DEMO_SOAP_NS}">
      ${types}
    </s:schema>
  </wsdl:types>
  ${messages}
  <wsdl:portType name="DemoSecretsPort">${portOps}</wsdl:portType>
  ${binding('DemoSecretsSoap', 'soap')}
  ${binding('DemoSecretsSoap12', 'soap12')}
  <wsdl:service name="DemoSecrets">
    <wsdl:port name="DemoSecretsSoap" binding="tns:DemoSecretsSoap"><soap:address location="${where}"/></wsdl:port>
    <wsdl:port name="DemoSecretsSoap12" binding="tns:DemoSecretsSoap12"><soap12:address location="${where}"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>
`;
}
