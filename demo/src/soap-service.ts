// A demo SOAP service behind the gateway, in the style of Secret Server's SOAP API: the
// access token travels inside the envelope. SOAP 1.1 and 1.2 (by the envelope namespace).
//   GetSecret(token, secretId)  the token is a parameter of the operation, in the Body
//   WhoAmI()                    the token is a wsse:BinarySecurityToken (base64) in the Header
// Both check the token at the demo IdP's userinfo endpoint and answer whose it is and that
// one arrived, never the token itself; a missing or invalid token gets a Fault.
// GET ?wsdl answers a WSDL of both operations.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSamlAssertion } from './saml-assertion.js';
import { parseSoapRequest, SoapParseError, type SoapRequest } from './soap-envelope.js';
import { demoWsdl, soapFault, soapResponse, type SoapAnswer } from './soap-messages.js';
import { userinfoTokenCheck, type TokenVerdict } from './userinfo-check.js';

export interface DemoSoapServiceOptions {
  issuer: string;
  host?: string; // default 127.0.0.1
  port?: number; // default 0: a free port
  /** WhoAmI also takes a signed SAML 2.0 assertion in wsse:Security (checked with this key, for this audience) */
  saml?: { publicKeyPem: string; audience: string };
}

export interface DemoSoapService {
  url: string;
  close(): Promise<void>;
}

const MAX_BYTES = 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

class TooLarge extends Error {}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BYTES) throw new TooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The token of the wsse:BinarySecurityToken, or undefined when there is none or it is not base64. */
function wsseToken(request: SoapRequest): string | undefined {
  const encoded = request.binarySecurityToken?.replace(/\s+/g, '');
  if (!encoded || !BASE64.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64').toString('utf8');
}

export async function startDemoSoapService(opts: DemoSoapServiceOptions): Promise<DemoSoapService> {
  const check = userinfoTokenCheck(opts.issuer);
  const host = opts.host ?? '127.0.0.1';

  async function operate(request: SoapRequest, xml: string): Promise<SoapAnswer> {
    const { version } = request;
    const op = request.operation.local;
    if (op !== 'GetSecret' && op !== 'WhoAmI') return soapFault(version, true, `unknown operation ${op}`);
    const saml = op === 'WhoAmI' && opts.saml ? checkSamlAssertion(xml, opts.saml.publicKeyPem, opts.saml.audience) : undefined;
    if (saml && 'invalid' in saml) return soapFault(version, true, `the SAML assertion is not valid: ${saml.invalid}`);
    if (saml) return soapResponse(version, op, { Subject: saml.subject, TokenReceived: true, TokenLocation: 'wsse-saml' });
    const token = op === 'GetSecret' ? request.params.get('token') : wsseToken(request);
    if (!token) {
      const where = op === 'GetSecret' ? 'a token element in GetSecret' : 'a wsse:BinarySecurityToken in the Header';
      return soapFault(version, true, `no token: ${op} needs ${where}`);
    }
    const secretId = request.params.get('secretId') ?? '1';
    if (op === 'GetSecret' && !/^\d{1,9}$/.test(secretId)) return soapFault(version, true, 'secretId must be a number');
    let verdict: TokenVerdict;
    try {
      verdict = await check(token);
    } catch (e) {
      console.error('[demo-soap] cannot check the token:', e instanceof Error ? e.message : e);
      return soapFault(version, false, 'the token cannot be checked right now', 503);
    }
    if ('invalid' in verdict) return soapFault(version, true, 'the token is not valid');
    const who = { Subject: verdict.subject, TokenReceived: true, TokenLocation: op === 'GetSecret' ? 'body' : 'wsse' };
    if (op === 'WhoAmI') return soapResponse(version, op, who);
    return soapResponse(version, op, { ...who, SecretId: Number(secretId), SecretName: `Demo secret ${secretId}` });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, url: string): Promise<void> {
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://soap.invalid');
    if (req.method === 'GET' && [...searchParams.keys()].some((k) => k.toLowerCase() === 'wsdl')) {
      return send(res, { status: 200, contentType: 'text/xml; charset=utf-8', body: demoWsdl(`${url}${pathname}`) });
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST, GET' }).end();
      return;
    }
    let xml: string;
    try {
      xml = await readBody(req);
    } catch (e) {
      if (e instanceof TooLarge) return send(res, soapFault('1.1', true, 'the request is too large', 413));
      throw e;
    }
    let request: SoapRequest;
    try {
      request = parseSoapRequest(xml);
    } catch (e) {
      if (!(e instanceof SoapParseError)) throw e;
      return send(res, soapFault(e.version ?? '1.1', true, e.message));
    }
    send(res, await operate(request, xml));
  }

  let url = '';
  const server = http.createServer((req, res) => {
    handle(req, res, url).catch((err: unknown) => {
      console.error('[demo-soap] request failed:', err instanceof Error ? err.message : err);
      if (!res.headersSent) send(res, soapFault('1.1', false, 'internal error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function send(res: http.ServerResponse, answer: SoapAnswer): void {
  res.writeHead(answer.status, {
    'content-type': answer.contentType,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(answer.body),
  });
  res.end(answer.body);
}
