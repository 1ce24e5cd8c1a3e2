import type { Rng } from '../rng.js';
import { withMutations, type Generator } from './text.js';

// SOAP envelopes from a small grammar (versions, prefixes, declarations, Header blocks the
// three modes look for, operations with and without a token parameter, comments, CDATA,
// processing instructions, now and then a DOCTYPE, deep nesting or many attributes), then
// encoded as UTF-8, UTF-16 or latin1: the input's characters are the body's bytes.

const NS = ['http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope', 'urn:not-soap'];
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const PREFIXES = ['s', 'soap', 'env', 'SOAP-ENV', ''];
const XML_TOKENS = ['<', '>', '</', '/>', '&', '&amp;', '&#x0;', '&#1114112;', '&lt;', '&x;', ']]>', '<![CDATA[', '<!--', '-->', '<?', '?>',
  '<!DOCTYPE x>', '<!ENTITY e "x">', 'xmlns:', 'xmlns="', '"', "'", '=', ':', '\uFEFF', '\u0000', ' ', '\r\n', 'Header', 'Body',
  'Envelope', 'token', 'Security', 'é', '\ud83d\ude00', '\ud800'];

export function envelopes(rng: Rng, corpus: readonly string[]): Generator {
  const q = (name: string, prefix: string) => (prefix === '' ? name : `${prefix}:${name}`);
  const decl = ['', '<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>',
    '<?xml version="1.0" encoding="UTF-16"?>', '<?xml version="1.1"?>'];
  const blocks = [
    `<wsse:Security xmlns:wsse="${WSSE}"><wsse:BinarySecurityToken>Q0xJRU5U</wsse:BinarySecurityToken></wsse:Security>`,
    `<Security xmlns="${WSSE}"/>`,
    '<a:AuthToken xmlns:a="urn:example:auth">client</a:AuthToken>',
    '<AuthToken xmlns="urn:example:auth"/>',
    '<x:Trace xmlns:x="urn:x">abc</x:Trace>',
    '<!-- a comment -->',
    '<?pi data?>',
  ];
  const params = ['<ss:token>old</ss:token>', '<token/>', '<token  />', '<ss:token><![CDATA[cd]]></ss:token>', '<token xmlns="">t</token>',
    '<ss:secretId>42</ss:secretId>', '<!-- no token -->', '<ss:nested><ss:token>deep</ss:token></ss:nested>', 'text', ' '];
  const operation = () => {
    const name = rng.pick(['GetSecret', 'DeleteSecret', 'Op', 'ss:GetSecret']);
    const ns = rng.pick(['urn:ss', 'urn:other', '']);
    const open = name.startsWith('ss:') ? `<${name} xmlns:ss="${ns}">` : `<ss:${name} xmlns:ss="${ns || 'urn:ss'}">`;
    const close = name.startsWith('ss:') ? `</${name}>` : `</ss:${name}>`;
    if (rng.chance(0.1)) return open.replace('>', '/>');
    let inner = '';
    for (let i = rng.int(4); i > 0; i--) inner += rng.pick(params);
    return open + inner + close;
  };
  const odd = () => {
    const roll = rng.int(100);
    if (roll === 0) return '<a>'.repeat(130) + '</a>'.repeat(130);
    if (roll === 1) return `<a ${Array.from({ length: 260 }, (_, i) => `a${i}="1"`).join(' ')}/>`;
    if (roll === 2) return '<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>';
    return '';
  };
  const build = () => {
    const p = rng.pick(PREFIXES);
    const ns = rng.pick(NS);
    let xml = rng.pick(decl) + (rng.chance(0.05) ? odd() : '');
    xml += `<${q('Envelope', p)} ${p === '' ? 'xmlns' : `xmlns:${p}`}="${ns}">`;
    if (rng.chance(0.6)) {
      let inner = '';
      for (let i = rng.int(4); i > 0; i--) inner += rng.pick(blocks);
      xml += rng.chance(0.1) ? `<${q('Header', p)}/>` : `<${q('Header', p)}>${inner}</${q('Header', p)}>`;
    }
    let body = rng.chance(0.9) ? operation() : '';
    if (rng.chance(0.2)) body += operation();
    if (rng.chance(0.05)) body += odd();
    xml += rng.chance(0.05) ? `<${q('Body', p)}/>` : `<${q('Body', p)}>${rng.chance(0.3) ? '\n  ' : ''}${body}</${q('Body', p)}>`;
    return `${xml}</${q('Envelope', p)}>`;
  };
  const text = withMutations(rng, [], XML_TOKENS, build);
  return withMutations(rng, corpus, XML_TOKENS, () => encode(rng, text()));
}

function encode(rng: Rng, text: string): string {
  const roll = rng.int(20);
  if (roll < 14) return Buffer.from(text, 'utf8').toString('latin1');
  if (roll < 16) return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]).toString('latin1');
  if (roll < 17) return Buffer.from(text, 'utf16le').swap16().toString('latin1');
  return Buffer.from(text, 'latin1').toString('latin1');
}
