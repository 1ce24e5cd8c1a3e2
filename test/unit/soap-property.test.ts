import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { checkSoapBody, prepareSoapBody } from '../../src/soap/prepare.js';
import { MODES, soapConfig } from '../fixtures/soap/cases.js';
import { generatedEnvelope } from '../fixtures/soap/generated-envelopes.js';

// Property tests over generated envelopes: odd prefixes, default namespaces, BOMs, XML
// declarations, comments, PIs, CDATA, entities, CRLF, non-ASCII, self-closing tags, client
// tokens in every place. 10,000 envelopes (x3 modes) by default; BFF_SOAP_FUZZ_RUNS overrides.

const RUNS = Number(process.env.BFF_SOAP_FUZZ_RUNS ?? 10_000);

/** Runs `f`; anything thrown must be a GatewayError. */
function gatewayErrorsOnly<T>(f: () => T): T | GatewayError {
  try {
    return f();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
}

describe('the injector on generated envelopes', () => {
  it(`writes the token and changes no other byte (${RUNS} envelopes, every mode)`, () => {
    fc.assert(
      fc.property(generatedEnvelope, ({ xml, token, expected }) => {
        const original = Buffer.from(xml, 'utf8');
        for (const mode of MODES) {
          const out = prepareSoapBody(original, 'text/xml; charset=utf-8', soapConfig(mode), token).body;
          expect(out.toString('utf8')).toBe(expected[mode]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('throws nothing but GatewayErrors on mutated envelopes, and what it accepts stays a valid envelope', () => {
    const nasty = fc.constantFrom('<', '>', '&', ';', '"', "'", '/', '!', '[', ']', '-', '?', ':', '=', 'x', ' ', '\u0000', '\uFFFE', '\uD800', 'é', '<!DOCTYPE x>', '&#0;', ']]>', '<!--', 'xmlns:s=""');
    const mutation = fc.record({ at: fc.nat(), cut: fc.nat({ max: 8 }), insert: fc.array(nasty, { maxLength: 3 }).map((p) => p.join('')) });
    fc.assert(
      fc.property(generatedEnvelope, fc.array(mutation, { minLength: 1, maxLength: 3 }), ({ xml, token }, mutations) => {
        let text = xml;
        for (const m of mutations) {
          const at = m.at % (text.length + 1);
          text = text.slice(0, at) + m.insert + text.slice(at + m.cut);
        }
        for (const mode of MODES) {
          const result = gatewayErrorsOnly(() => prepareSoapBody(Buffer.from(text, 'utf8'), undefined, soapConfig(mode), token));
          if (result instanceof GatewayError) {
            expect([400, 413]).toContain(result.status);
          } else {
            expect(() => checkSoapBody(result.body, undefined, soapConfig(mode))).not.toThrow();
          }
        }
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('throws nothing but GatewayErrors on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 20 }), (bytes, contentType) => {
        const result = gatewayErrorsOnly(() => prepareSoapBody(Buffer.from(bytes), contentType, soapConfig('wsse'), 'token'));
        expect(result).toBeInstanceOf(GatewayError);
      }),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  });
});
