import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { checkSoapBody, prepareSoapBody } from '../../src/soap/prepare.js';
import {
  AUTH_NS, CASES, MODES, expectedBytes, expectedForClientTokens, fixture, insertAfter, replaceOnce, soapConfig, wsseBlock, xmlText,
} from '../fixtures/soap/cases.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const ODD_TOKEN = 'a<b>&c"d\'e';

const same = (actual: Buffer, expected: Buffer) => {
  expect(actual.toString('utf8')).toBe(expected.toString('utf8'));
  expect(actual.equals(expected)).toBe(true);
};

describe('injection into the fixtures: the original bytes plus the token, nothing else', () => {
  for (const c of CASES) {
    for (const mode of MODES) {
      for (const token of [TOKEN, ODD_TOKEN]) {
        it(`${c.file}, ${mode}, token ${JSON.stringify(token.slice(0, 6))}`, () => {
          const original = fixture(c.file);
          const result = prepareSoapBody(original, undefined, soapConfig(mode), token);
          expect(result.version).toBe(c.version);
          same(result.body, expectedBytes(c, original, mode, token));
        });
      }
    }
  }

  for (const mode of MODES) {
    it(`replaces the token-bearing elements the client sent (${mode})`, () => {
      const original = fixture('soap11-client-tokens.xml');
      same(prepareSoapBody(original, 'text/xml', soapConfig(mode), TOKEN).body, expectedForClientTokens(original, mode, TOKEN));
    });
  }
});

const ENV11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const ENV12 = 'http://www.w3.org/2003/05/soap-envelope';

describe('injection details', () => {
  it('keeps CRLF line ends and writes nothing but the token', () => {
    const xml = `<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="${ENV11}">\r\n<s:Body>\r\n<o:Op xmlns:o="urn:o">\r\n</o:Op>\r\n</s:Body>\r\n</s:Envelope>\r\n`;
    const original = Buffer.from(xml);
    same(prepareSoapBody(original, 'text/xml', soapConfig('body'), TOKEN).body, insertAfter(original, '<o:Op xmlns:o="urn:o">', `<o:token>${TOKEN}</o:token>`));
  });

  it('opens a self-closing operation and a self-closing token element', () => {
    const op = Buffer.from(`<s:Envelope xmlns:s="${ENV11}"><s:Body><o:Op xmlns:o="urn:o"/></s:Body></s:Envelope>`);
    same(prepareSoapBody(op, undefined, soapConfig('body'), TOKEN).body,
      replaceOnce(op, '<o:Op xmlns:o="urn:o"/>', `<o:Op xmlns:o="urn:o"><o:token>${TOKEN}</o:token></o:Op>`));
    const param = Buffer.from(`<s:Envelope xmlns:s="${ENV11}"><s:Body><Op xmlns="urn:o"><token  /></Op></s:Body></s:Envelope>`);
    same(prepareSoapBody(param, undefined, soapConfig('body'), TOKEN).body, replaceOnce(param, '<token  />', `<token  >${TOKEN}</token>`));
  });

  it('fills every token element of the operation and keeps their attributes', () => {
    const xml = Buffer.from(`<e:Envelope xmlns:e="${ENV12}"><e:Body><Op xmlns="urn:o"><token id="1">x</token><a>1</a><p:token xmlns:p="urn:p">y</p:token></Op></e:Body></e:Envelope>`);
    const expected = replaceOnce(replaceOnce(xml, '<token id="1">x<', `<token id="1">${TOKEN}<`), '"urn:p">y<', `"urn:p">${TOKEN}<`);
    same(prepareSoapBody(xml, undefined, soapConfig('body'), TOKEN).body, expected);
  });

  it('matches "{uri}local" names by namespace, and writes a new one with its own xmlns', () => {
    const xml = Buffer.from(`<e:Envelope xmlns:e="${ENV12}"><e:Body><Op xmlns="urn:o"><token>not mine</token></Op></e:Body></e:Envelope>`);
    const soap = soapConfig('body', { element: '{urn:t}token' });
    same(prepareSoapBody(xml, undefined, soap, TOKEN).body, insertAfter(xml, '<Op xmlns="urn:o">', `<token xmlns="urn:t">${TOKEN}</token>`));
    const noNs = soapConfig('body', { element: '{}token' });
    same(prepareSoapBody(xml, undefined, noNs, TOKEN).body, insertAfter(xml, '<Op xmlns="urn:o">', `<token xmlns="">${TOKEN}</token>`));
  });

  it('header mode with a plain local name writes an element in no namespace', () => {
    const xml = Buffer.from(`<Envelope xmlns="${ENV11}"><Header></Header><Body><Op/></Body></Envelope>`);
    same(prepareSoapBody(xml, undefined, soapConfig('header', { element: 'Token' }), TOKEN).body,
      insertAfter(xml, '<Header>', `<Token xmlns="">${TOKEN}</Token>`));
    const prefixed = Buffer.from(`<s:Envelope xmlns:s="${ENV11}"><s:Body><Op/></s:Body></s:Envelope>`);
    same(prepareSoapBody(prefixed, undefined, soapConfig('header', { element: 'Token' }), TOKEN).body,
      insertAfter(prefixed, `<s:Envelope xmlns:s="${ENV11}">`, `<s:Header><Token>${TOKEN}</Token></s:Header>`));
  });

  it('writes non-ASCII token characters as character references', () => {
    const xml = fixture('soap12-default-ns.xml');
    const out = prepareSoapBody(xml, undefined, soapConfig('body'), 'ä€🙂\t').body.toString('utf8');
    expect(out).toContain('<token>&#xE4;&#x20AC;&#x1F642;&#x9;</token>');
  });

  it('splices into ISO-8859-1 and UTF-16 envelopes in their own encoding', () => {
    const latin = `<?xml version="1.0" encoding="ISO-8859-1"?><s:Envelope xmlns:s="${ENV11}"><s:Body><Op xmlns="urn:o">é</Op></s:Body></s:Envelope>`;
    const latinBytes = Buffer.from(latin, 'latin1');
    const latinOut = prepareSoapBody(latinBytes, 'text/xml', soapConfig('body'), TOKEN).body;
    expect(latinOut.equals(Buffer.from(latin.replace('<Op xmlns="urn:o">', `<Op xmlns="urn:o"><token>${TOKEN}</token>`), 'latin1'))).toBe(true);

    const utf16 = `\uFEFF<s:Envelope xmlns:s="${ENV11}"><s:Body><Op xmlns="urn:o">日本</Op></s:Body></s:Envelope>`;
    const le = Buffer.from(utf16, 'utf16le');
    const leOut = prepareSoapBody(le, 'text/xml', soapConfig('body'), TOKEN).body;
    expect(leOut.equals(Buffer.from(utf16.replace('<Op xmlns="urn:o">', `<Op xmlns="urn:o"><token>${TOKEN}</token>`), 'utf16le'))).toBe(true);
    const beOut = prepareSoapBody(Buffer.from(le).swap16(), 'text/xml', soapConfig('body'), TOKEN).body;
    expect(beOut.equals(Buffer.from(leOut).swap16())).toBe(true);
  });

  it('without a token to write, removes (body mode: empties) what the client sent', () => {
    const original = fixture('soap11-client-tokens.xml');
    const wsse = prepareSoapBody(original, undefined, soapConfig('wsse'), undefined).body.toString('utf8');
    expect(wsse).not.toContain('Security');
    expect(wsse).toContain('client-token');
    const header = prepareSoapBody(original, undefined, soapConfig('header'), undefined).body.toString('utf8');
    expect(header).not.toContain('AuthToken');
    const body = prepareSoapBody(original, undefined, soapConfig('body'), undefined).body;
    same(body, replaceOnce(original, '>client<![CDATA[-token]]><!-- c --><', '><'));
  });

  it('checkSoapBody validates and reports the version without writing anything', () => {
    expect(checkSoapBody(fixture('soap12-env-cdata.xml'), undefined, soapConfig('body'))).toBe('1.2');
    expect(() => checkSoapBody(Buffer.from('<a/>'), undefined, soapConfig('body'))).toThrow(GatewayError);
  });

  it('uses the same escaping and block as the contract words them', () => {
    expect(xmlText('a<&>')).toBe('a&lt;&amp;&gt;');
    expect(wsseBlock('x')).toContain('>eA==</wsse:BinarySecurityToken>');
    expect(AUTH_NS).toBe('urn:example:auth');
  });
});
