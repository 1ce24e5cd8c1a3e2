import { createServer, type Server } from 'node:http';
import { dpopChecker, type DpopCall } from './dpop-check.js';
import type { TestIdp } from './idp.js';

// An HTTP resource server that takes DPoP-bound tokens (dpop-check.ts): a request that
// passes gets 200 `{"sub", "jkt", "scheme"}`, any other the checker's 401.

export { introspect, randomNonce, type DpopCall, type Introspection } from './dpop-check.js';

export interface DpopUpstream {
  url: string;
  calls: DpopCall[];
  /** make proofs carry this nonce (null: no nonce needed) */
  requireNonce(nonce: string | null): void;
  close(): Promise<void>;
}

export async function startDpopUpstream(idp: TestIdp): Promise<DpopUpstream> {
  let origin = '';
  const checker = dpopChecker(idp, () => origin);

  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      void checker
        .check(req)
        .then(({ call, refusal }) => {
          if (refusal) {
            res.writeHead(refusal.status, refusal.headers).end(refusal.body);
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ sub: call.sub ?? null, jkt: call.jkt ?? null, scheme: call.scheme }));
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    calls: checker.calls,
    requireNonce: checker.requireNonce,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
