// The `tls:` sections (server, store, oidc, tokenSources.<name>, routes[]): PEM files,
// resolved against the config file's directory and checked at load, so an unreadable file
// or a key that does not belong to its certificate is a configuration error (exit 2) that
// names the key, not a failure at the first connection.

import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RouteConfig, ServerTlsConfig, TlsFilesConfig } from './types.js';
import { section, type Parse, type Reader } from './validate.js';
import { text } from './values.js';

function readPem(baseDir: string, value: unknown): { file: string; pem: string } {
  const file = resolve(baseDir, text(value));
  try {
    return { file, pem: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new Error(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function certificates(pem: string, file: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${file} holds no PEM certificate`);
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch (err) {
    throw new Error(`${file} holds a certificate that cannot be read (${(err as Error).message})`);
  }
}

/** A PEM file of one or more certificates (a CA bundle, or a certificate and its chain). */
const certFile = (baseDir: string): Parse<{ file: string; leaf: X509Certificate }> => (value) => {
  const { file, pem } = readPem(baseDir, value);
  const [leaf] = certificates(pem, file);
  return { file, leaf: leaf! };
};

const keyFile = (baseDir: string): Parse<{ file: string; key: KeyObject }> => (value) => {
  const { file, pem } = readPem(baseDir, value);
  try {
    return { file, key: createPrivateKey(pem) };
  } catch {
    // the reason from OpenSSL may quote the file: keep it out of the message
    throw new Error(`${file} holds no readable private key (PEM, unencrypted)`);
  }
};

/** cert and key together, the key the certificate's own; reports at `key` (or `cert`). */
function certAndKey(r: Reader, baseDir: string, required: boolean): { cert?: string; key?: string } {
  const cert = required ? r.req('cert', certFile(baseDir)) : r.opt('cert', certFile(baseDir));
  const key = required ? r.req('key', keyFile(baseDir)) : r.opt('key', keyFile(baseDir));
  if (!required && r.has('cert') !== r.has('key')) {
    r.report('cert and key go together (a client certificate needs its key)', r.has('cert') ? 'key' : 'cert');
    return {};
  }
  if (cert === undefined || key === undefined) return {};
  if (!cert.leaf.checkPrivateKey(key.key)) {
    r.report(`${key.file} is not the private key of the certificate in ${cert.file}`, 'key');
    return {};
  }
  return { cert: cert.file, key: key.file };
}

/** A client side: `ca` to trust, an optional client certificate, and (upstreams) `servername`. */
export function tlsClient(baseDir: string, opts: { servername: boolean }): Parse<TlsFilesConfig> {
  return section((r) => {
    const ca = r.opt('ca', certFile(baseDir))?.file;
    const pair = certAndKey(r, baseDir, false);
    const servername = opts.servername ? r.opt('servername', text) : undefined;
    return {
      ...(ca === undefined ? {} : { ca }),
      ...pair,
      ...(servername === undefined ? {} : { servername }),
    };
  });
}

/** The gateway's own listener: a certificate (and its chain) and its key. */
export function tlsServer(baseDir: string): Parse<ServerTlsConfig> {
  return section((r) => {
    const { cert, key } = certAndKey(r, baseDir, true);
    return cert === undefined || key === undefined ? undefined : { cert, key };
  });
}

/**
 * Certificate-bound access tokens (RFC 8705 §3): a token the IdP bound to the gateway's
 * client certificate (`cnf.x5t#S256`) is only accepted with that certificate. So a
 * `token: session` route to an https:// upstream with no client certificate of its own
 * presents oidc.tls's (an upstream that does not ask for one never sees it).
 */
export function withBoundCertificate(routes: RouteConfig[], oidcTls: TlsFilesConfig | undefined): RouteConfig[] {
  const { cert, key } = oidcTls ?? {};
  if (cert === undefined || key === undefined) return routes;
  return routes.map((route) =>
    route.token !== 'session' || !route.upstream.startsWith('https:') || route.tls?.cert !== undefined
      ? route
      : { ...route, tls: { ...route.tls, cert, key } });
}
