import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecureVersion } from 'node:tls';
import type { TlsFilesConfig } from '../config/types.js';

// The contents of a `tls:` section's files as Node's tls.connect options. Read anew on
// every call: a reload (SIGHUP) calls it again and builds new connections from the result.

/** TLS 1.0 and 1.1 are never offered, whatever the peer or Node's defaults say. */
export const MIN_TLS_VERSION: SecureVersion = 'TLSv1.2';

export interface ClientTlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  minVersion: SecureVersion;
  /** always true: verification is never switched off (there is no setting for it) */
  rejectUnauthorized: true;
}

export function clientTlsOptions(files: TlsFilesConfig | undefined): ClientTlsOptions {
  const options: ClientTlsOptions = { minVersion: MIN_TLS_VERSION, rejectUnauthorized: true };
  if (files?.ca !== undefined) options.ca = readFileSync(files.ca, 'utf8');
  if (files?.cert !== undefined && files.key !== undefined) {
    options.cert = readFileSync(files.cert, 'utf8');
    options.key = readFileSync(files.key, 'utf8');
    assertKeyMatches(options.cert, options.key);
  }
  if (files?.servername !== undefined) options.servername = files.servername;
  return options;
}

/** Throws unless the key is the certificate's own (say, a renewal caught between two file writes). */
export function assertKeyMatches(certPem: string, keyPem: string): void {
  if (!new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem))) {
    throw new Error('the key file does not match the certificate file (yet)');
  }
}

/** The files a section names (what a reload re-reads, and what is watched). */
export function tlsFileList(files: TlsFilesConfig | undefined): string[] {
  return [files?.ca, files?.cert, files?.key].filter((f): f is string => f !== undefined);
}
