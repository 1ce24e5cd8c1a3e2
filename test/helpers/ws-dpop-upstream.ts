import { dpopChecker, type DpopChecker } from './dpop-check.js';
import type { TestIdp } from './idp.js';
import { startWsUpstream, type WsUpstream } from './ws-upstream.js';

// A WebSocket upstream that takes DPoP-bound tokens on its handshakes (dpop-check.ts): a
// handshake whose token or proof does not pass gets the checker's 401 (its challenge, and a
// DPoP-Nonce when it asks for one); `checker.calls` records every handshake checked.

export interface WsDpopUpstream extends WsUpstream {
  checker: DpopChecker;
}

export async function startWsDpopUpstream(idp: TestIdp): Promise<WsDpopUpstream> {
  let origin = '';
  const checker = dpopChecker(idp, () => origin);
  const upstream = await startWsUpstream();
  origin = upstream.url;
  upstream.refuse(async (request) => (await checker.check(request)).refusal);
  return Object.assign(upstream, { checker });
}
