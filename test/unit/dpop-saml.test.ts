import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { dpopAlg, DpopProofs, newDpopKey, publicJwk } from '../../src/oidc/dpop.js';
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

  it('are Ed25519 JWTs of an Ed25519 session key (public half only in the header)', async () => {
    const proofs = new DpopProofs();
    const key = newDpopKey('Ed25519');
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    const proof = proofs.proof(key, { htm: 'GET', htu: 'https://api.example/x', accessToken: 'token-1' });
    // jose checks the signature against the embedded key; ES256 is not accepted for it
    await expect(jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] })).rejects.toThrow();
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['Ed25519'] });
    expect(protectedHeader).toMatchObject({ alg: 'Ed25519', jwk: { kty: 'OKP', crv: 'Ed25519', x: key.x } });
    expect(protectedHeader.jwk).not.toHaveProperty('d');
    expect(payload).toMatchObject({ htm: 'GET', htu: 'https://api.example/x', ath: createHash('sha256').update('token-1').digest('base64url') });
    // an ES256 key beside it in the same signer keeps signing ES256
    const ec = newDpopKey('ES256');
    const ecProof = await jwtVerify(proofs.proof(ec, { htm: 'GET', htu: 'https://x' }), EmbeddedJWK, { algorithms: ['ES256'] });
    expect(ecProof.protectedHeader.jwk).toEqual(publicJwk(ec));
  });

  it('use the first preferred alg the IdP lists for DPoP, else ES256', () => {
    const both: ('Ed25519' | 'ES256')[] = ['Ed25519', 'ES256'];
    expect(dpopAlg(['ES256', 'Ed25519', 'EdDSA'], both)).toBe('Ed25519');
    expect(dpopAlg(['ES256', 'EdDSA'], both)).toBe('ES256'); // openid-client names its Ed25519 proofs "Ed25519"
    expect(dpopAlg(['ES256', 'Ed25519'], ['ES256'])).toBe('ES256');
    expect(dpopAlg(['PS256'], both)).toBe('ES256');
    expect(dpopAlg(undefined, both)).toBe('ES256');
  });

  it('never signs with another key that shares the cache slot', async () => {
    const proofs = new DpopProofs();
    const a = newDpopKey();
    const b = { ...newDpopKey(), x: a.x }; // a forged entry with a's x
    proofs.proof(a, { htm: 'GET', htu: 'https://x' });
    await expect(async () => proofs.proof(b, { htm: 'GET', htu: 'https://x' })).rejects.toThrow();
    const ed = newDpopKey('Ed25519');
    const forged = { ...newDpopKey('Ed25519'), x: ed.x };
    await jwtVerify(proofs.proof(ed, { htm: 'GET', htu: 'https://x' }), EmbeddedJWK);
    // node imports the forged JWK from its d: signed with that, not with ed's cached key, so
    // the proof does not verify under ed's public key that it names
    let forgedProof = '';
    try {
      forgedProof = proofs.proof(forged, { htm: 'GET', htu: 'https://x' });
    } catch {
      return; // refused outright: as good
    }
    await expect(jwtVerify(forgedProof, EmbeddedJWK)).rejects.toThrow(/signature/);
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
