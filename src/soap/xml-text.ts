import { errors } from '../errors.js';

// Text the gateway writes into an envelope. Everything outside printable ASCII becomes a
// character reference, so the bytes written are ASCII whatever the envelope's encoding.

/** Chars XML 1.0 cannot hold at all, even as references. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function escapeXmlText(value: string): string {
  if (NOT_XML.test(value)) throw errors.internal({ description: 'a token holds characters XML cannot carry' });
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '&') out += '&amp;';
    else if (char === '<') out += '&lt;';
    else if (char === '>') out += '&gt;';
    else if (code < 0x20 || code > 0x7e) out += `&#x${code.toString(16).toUpperCase()};`;
    else out += char;
  }
  return out;
}

/** Any text as XML text: chars XML cannot carry become "?" (for error descriptions). */
export function escapeAnyXmlText(value: string): string {
  return escapeXmlText(value.replace(new RegExp(NOT_XML.source, 'g'), '?'));
}

/** An attribute value in double quotes (for namespace URIs the gateway declares). */
export function escapeXmlAttribute(value: string): string {
  return escapeXmlText(value).replaceAll('"', '&quot;');
}
