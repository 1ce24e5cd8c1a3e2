import { isIP } from 'node:net';

// The syntax of the forwarding headers the gateway writes or reads: RFC 7239 `Forwarded`
// and the list of header names in `Connection` (RFC 9110 §7.6.1). Both run on every proxied
// call, so the common cases (one peer, the same Host again; `Connection: keep-alive`)
// allocate nothing new.

/** RFC 9110 tchar */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The header names a Connection header lists, lower-cased, without the ones every request
 * has (keep-alive, close); undefined when there are none.
 */
export function connectionNamed(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close') return undefined;
  const text = typeof value === 'string' ? value : value.join(',');
  let names: string[] | undefined;
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '' || name === 'keep-alive' || name === 'close') continue;
    (names ??= []).push(name);
  }
  return names;
}

/** A node of RFC 7239 §6: IPv4 as it is, IPv6 quoted in brackets, anything else "unknown". */
export function forwardedNode(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const kind = isIP(address);
  return kind === 4 ? address : kind === 6 ? `"[${address}]"` : 'unknown';
}

/** A token as it is, anything else as a quoted-string (RFC 9110 §5.6.4). */
export function tokenOrQuoted(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

// the last single-peer value, made again only when the peer, proto or host changes
let last = { peer: '', proto: '', host: '', value: '' };

/**
 * The Forwarded header (RFC 7239) of a call: one `for=` element per address of the chain,
 * the client first, the first element also carrying the original `host` and `proto`.
 * `chain`: the trusted addresses (client first, the peer last), or the peer alone.
 */
export function forwardedHeader(chain: string | string[], proto: string, host: string | undefined): string {
  if (typeof chain === 'string') {
    if (chain === last.peer && proto === last.proto && (host ?? '') === last.host) return last.value;
    const value = element(chain, proto, host);
    last = { peer: chain, proto, host: host ?? '', value };
    return value;
  }
  let value = element(chain[0], proto, host);
  for (let i = 1; i < chain.length; i++) value += `, for=${forwardedNode(chain[i])}`;
  return value;
}

function element(address: string | undefined, proto: string, host: string | undefined): string {
  const hostPart = host ? `;host=${tokenOrQuoted(host)}` : '';
  return `for=${forwardedNode(address)}${hostPart};proto=${tokenOrQuoted(proto)}`;
}
