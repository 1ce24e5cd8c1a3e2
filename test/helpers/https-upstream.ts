import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { CertFiles } from './certs.js';

// An HTTPS upstream on 127.0.0.1:0 answering a JSON echo that says which client
// certificate (CN) came on the connection. `clientCa` makes it demand a client certificate
// signed by that CA (mutual TLS). It counts TLS handshakes, to check connection reuse.

export interface HttpsUpstream {
  url: string;
  port: number;
  /** TLS handshakes completed so far */
  handshakes(): number;
  /** the CN of each request's client certificate ('' when none) */
  clientNames: string[];
  close(): Promise<void>;
}

export interface HttpsUpstreamOptions {
  server: CertFiles;
  /** demand a client certificate signed by this CA (PEM) */
  clientCa?: string;
  /** the host in the returned URL; default 127.0.0.1 */
  host?: string;
}

export async function startHttpsUpstream(opts: HttpsUpstreamOptions): Promise<HttpsUpstream> {
  let handshakes = 0;
  const clientNames: string[] = [];
  const mutual = opts.clientCa === undefined ? {} : { ca: opts.clientCa, requestCert: true, rejectUnauthorized: true };
  const server: Server = createServer({ cert: opts.server.certPem, key: opts.server.keyPem, ...mutual }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const cn = peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : '';
    const x509 = (req.socket as TLSSocket).getPeerX509Certificate();
    // RFC 8705 §3.1: what a certificate-bound token's cnf.x5t#S256 must equal
    const thumbprint = x509 === undefined ? '' : createHash('sha256').update(x509.raw).digest('base64url');
    clientNames.push(cn);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, clientCertificate: cn, thumbprint, authorization: req.headers.authorization ?? null }));
    });
  });
  server.on('secureConnection', () => handshakes++);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    handshakes: () => handshakes,
    clientNames,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
