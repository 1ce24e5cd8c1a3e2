import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ClientMetadata, KoaContext } from 'oidc-provider';
import { Agent, fetch as undiciFetch, type HeadersInit as UndiciHeaders } from 'undici';
import type { CertFiles, TestPki } from './certs.js';
import { CookieJar } from './login.js';
import { bffClientMetadata, startTestIdp, type TestIdp, type TestIdpOptions } from './idp.js';

// The test IdP over HTTPS with oidc-provider's mTLS feature (RFC 8705): client certificates
// are requested but not required by the server (requestCert, rejectUnauthorized: false),
// as oidc-provider decides per client; tls_client_auth and self_signed_tls_client_auth
// clients, and access tokens bound to the certificate (x5t#S256).

function peerCertificate(ctx: KoaContext): X509Certificate | undefined {
  const socket = ctx.req.socket as TLSSocket;
  return socket.getPeerX509Certificate?.() ?? undefined;
}

export async function startHttpsIdp(pki: TestPki, opts: TestIdpOptions = {}): Promise<TestIdp> {
  const server = pki.issue('idp-server');
  return startTestIdp({
    ...opts,
    https: { cert: server.certPem, key: server.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: false },
    configure: (config) => {
      config.clientAuthMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none', 'tls_client_auth', 'self_signed_tls_client_auth'];
      config.features = {
        ...config.features,
        mTLS: {
          enabled: true,
          certificateBoundAccessTokens: true,
          tlsClientAuth: true,
          selfSignedTlsClientAuth: true,
          getCertificate: peerCertificate,
          certificateAuthorized: (ctx) => (ctx.req.socket as TLSSocket).authorized,
          certificateSubjectMatches: (ctx, property, expected) =>
            property === 'tls_client_auth_subject_dn' && peerCertificate(ctx)?.subject === expected,
        },
      };
    },
  });
}

/** The "bff" client (or another id) authenticating with tls_client_auth, tokens bound to the certificate. */
export function tlsClientAuthMetadata(clientId: string, redirectUri: string, subjectDn: string): ClientMetadata {
  const { client_secret: _secret, ...base } = bffClientMetadata({ redirectUris: [redirectUri] });
  return {
    ...base,
    client_id: clientId,
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: subjectDn,
    tls_client_certificate_bound_access_tokens: true,
  };
}

/** A client authenticating with self_signed_tls_client_auth: its certificate registered in its JWKS (x5c). */
export function selfSignedClientMetadata(clientId: string, redirectUri: string, cert: CertFiles): ClientMetadata {
  const { client_secret: _secret, ...base } = bffClientMetadata({ redirectUris: [redirectUri] });
  const x509 = new X509Certificate(cert.certPem);
  const jwk = { ...createPublicKey(cert.certPem).export({ format: 'jwk' }), x5c: [x509.raw.toString('base64')] };
  return {
    ...base,
    client_id: clientId,
    token_endpoint_auth_method: 'self_signed_tls_client_auth',
    jwks: { keys: [jwk] },
    tls_client_certificate_bound_access_tokens: true,
  };
}

/** RFC 8705 §3.1: the x5t#S256 thumbprint of a certificate. */
export function certificateThumbprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('base64url');
}

/** A cookie jar whose requests trust the test CA (the browser's side of a login at an HTTPS IdP). */
export class TrustingJar extends CookieJar {
  private readonly agent: Agent;

  constructor(caPem: string) {
    super();
    this.agent = new Agent({ connect: { ca: caPem } });
  }

  override async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie) headers.set('cookie', cookie);
    const { body, method } = init;
    const response = (await undiciFetch(url, { method, body: body as string | URLSearchParams | null | undefined, headers: headers as unknown as UndiciHeaders, redirect: 'manual', dispatcher: this.agent })) as unknown as Response;
    this.store(url, response);
    return response;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
