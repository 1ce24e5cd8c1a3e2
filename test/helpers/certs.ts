import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Certificates made at test time with Debian's `openssl` CLI in a temporary directory:
// nothing private is ever committed. One CA per `TestPki`; leaf certificates signed by it
// (servers for 127.0.0.1/localhost, clients), an expired one, and a second, unrelated CA
// for "wrong CA" cases. EC P-256 keys: quick to make.

export interface CertFiles {
  cert: string;
  key: string;
  /** the certificate in PEM */
  certPem: string;
  keyPem: string;
}

export interface TestPki {
  dir: string;
  /** the CA's certificate file */
  ca: string;
  caPem: string;
  /** a leaf certificate signed by this CA; `days: -1` (or any negative) makes an expired one */
  issue(name: string, opts?: IssueOptions): CertFiles;
  /** a self-signed certificate (no CA): for self_signed_tls_client_auth */
  selfSigned(name: string, opts?: { cn?: string }): CertFiles;
  /** a file path in the directory (for configs and swaps) */
  path(name: string): string;
  close(): void;
}

export interface IssueOptions {
  /** subject alternative names; default DNS:localhost, IP:127.0.0.1 */
  san?: string[];
  cn?: string;
  /** validity in days; a negative number makes a certificate that expired that long ago */
  days?: number;
  /** extendedKeyUsage; `both` for a peer that is server and client (Redis nodes on their cluster bus) */
  usage?: 'server' | 'client' | 'both';
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKey(dir: string, file: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);
}

export function createPki(label = 'Test CA'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'bff-pki-'));
  newKey(dir, 'ca.key');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', `/CN=${label}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.crt'], dir);
  let serial = 1;
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    caPem: read('ca.crt'),
    path: (name) => join(dir, name),
    issue(name, opts = {}) {
      const san = opts.san ?? ['DNS:localhost', 'IP:127.0.0.1'];
      const days = opts.days ?? 2;
      newKey(dir, `${name}.key`);
      openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${opts.cn ?? name}`, '-out', `${name}.csr`], dir);
      const usage = { server: 'serverAuth', client: 'clientAuth', both: 'serverAuth,clientAuth' }[opts.usage ?? 'server'];
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san.join(',')}\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`);
      // `openssl x509 -req` has no "not before"; `openssl ca` has both ends, so an expired
      // certificate is signed with -startdate/-enddate in the past
      if (days < 0) {
        writeFileSync(join(dir, 'index.txt'), '');
        const conf = `[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\n[p]\ncommonName=supplied\n`;
        writeFileSync(join(dir, 'ca.cnf'), conf);
        writeFileSync(join(dir, 'serial'), `${(serial++ + 100).toString(16).padStart(4, '0')}\n`);
        const start = new Date(Date.now() + (days - 2) * 86_400_000);
        const end = new Date(Date.now() + days * 86_400_000);
        const stamp = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`;
        openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${name}.csr`,
          '-startdate', stamp(start), '-enddate', stamp(end), '-extfile', `${name}.ext`, '-notext', '-out', `${name}.crt`], dir);
      } else {
        openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial++),
          '-days', String(days), '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
      }
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), certPem: read(`${name}.crt`), keyPem: read(`${name}.key`) };
    },
    selfSigned(name, opts = {}) {
      newKey(dir, `${name}.key`);
      openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-sha256', '-days', '2', '-subj', `/CN=${opts.cn ?? name}`, '-out', `${name}.crt`], dir);
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), certPem: read(`${name}.crt`), keyPem: read(`${name}.key`) };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
