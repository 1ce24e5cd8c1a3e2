// A DPoP proof (RFC 9449 §4.3) at the demo IdP's token endpoint, for the grants the demo
// registers itself (oidc-provider checks proofs for its own grants only): typ dpop+jwt,
// ES256 or Ed25519 (EdDSA), signed by the key it embeds, htm POST, htu the endpoint, iat recent, a jti
// not seen before. The answer is the key's thumbprint (the token's cnf.jkt).
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { errors, type KoaContext } from 'oidc-provider';

const MAX_JTIS = 10_000;
const seenJtis = new Set<string>();

/** The proof's key thumbprint; undefined when the request carries no proof. */
export async function dpopThumbprint(ctx: KoaContext, endpoint: string): Promise<string | undefined> {
  const proof = ctx.get('DPoP');
  if (!proof) return undefined;
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'Ed25519', 'EdDSA'] });
    const fresh = typeof payload.iat === 'number' && Math.abs(Date.now() / 1000 - payload.iat) < 120;
    const jti = typeof payload.jti === 'string' ? payload.jti : '';
    if (payload.htm !== 'POST' || payload.htu !== endpoint || !fresh || !jti || seenJtis.has(jti)) throw new Error('claims');
    if (seenJtis.size >= MAX_JTIS) seenJtis.delete(seenJtis.values().next().value!);
    seenJtis.add(jti);
    return await calculateJwkThumbprint(protectedHeader.jwk!);
  } catch {
    throw new errors.InvalidDpopProof('invalid DPoP proof');
  }
}
