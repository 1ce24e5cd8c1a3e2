import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { DpopProofs, newDpopKey, publicJwk } from '../../src/oidc/dpop.js';
import { samlAssertionXml } from '../../src/soap/saml.js';

const b64u = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

describe('DPoP proofs', () => {
  it('are ES256 JWTs of the session key with htm, htu, iat, a fresh jti, ath and the nonce', async () => {
    const proofs = new DpopProofs();
    const key = newDpopKey();
    const claims = { htm: 'POST', htu: 'https://api.example/orders', accessToken: 'token-1', nonce: 'n-1' };
    const first = proofs.proof(key, claims);
    const second = proofs.proof(key, claims);
    const { payload, protectedHeader } = await jwtVerify(first, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
    expect(protectedHeader.jwk).toEqual(publicJwk(key)); // the public half only
    expect(await calculateJwkThumbprint(protectedHeader.jwk!)).toBe(await calculateJwkThumbprint(publicJwk(key)));
    expect(payload).toMatchObject({ htm: 'POST', htu: 'https://api.example/orders', nonce: 'n-1' });
    expect(payload.ath).toBe(createHash('sha256').update('token-1').digest('base64url'));
    expect(Math.abs((payload.iat ?? 0) - Date.now() / 1000)).toBeLessThan(5);
    const again = await jwtVerify(second, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(again.payload.jti).not.toBe(payload.jti);
    // another token, another ath (the cached one is per token)
    const other = await jwtVerify(proofs.proof(key, { ...claims, accessToken: 'token-2' }), EmbeddedJWK);
    expect(other.payload.ath).toBe(createHash('sha256').update('token-2').digest('base64url'));
  });

  it('never signs with another key that shares the cache slot', async () => {
    const proofs = new DpopProofs();
    const a = newDpopKey();
    const b = { ...newDpopKey(), x: a.x }; // a forged entry with a's x
    proofs.proof(a, { htm: 'GET', htu: 'https://x' });
    await expect(async () => proofs.proof(b, { htm: 'GET', htu: 'https://x' })).rejects.toThrow();
  });
});

describe('SAML assertions for wsse:Security', () => {
  const assertion = '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_1"><saml2:Issuer>i</saml2:Issuer></saml2:Assertion>';

  it('are written exactly as issued, without an XML declaration', () => {
    expect(samlAssertionXml(b64u(assertion))).toBe(assertion);
    expect(samlAssertionXml(b64u(`<?xml version="1.0" encoding="UTF-8"?>${assertion}`))).toBe(assertion);
  });

  it('refuse anything but one saml2:Assertion element', () => {
    for (const bad of [
      `<!DOCTYPE a [<!ENTITY x "y">]>${assertion}`,
      `<?pi x?>${assertion}`,
      '<Assertion>no namespace</Assertion>',
      `${assertion}<more/>`,
      'not xml',
    ]) {
      expect(() => samlAssertionXml(b64u(bad)), bad).toThrow(expect.objectContaining({ code: 'token_service_unavailable' }));
    }
  });
});
