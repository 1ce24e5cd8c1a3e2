import { isUtf8 } from 'node:buffer';
import { errors } from '../errors.js';
import { mediaType } from './version.js';

// The bytes of an envelope as text for the parser, and back: positions the parser reports
// (indexes into a JavaScript string) become byte offsets in the original buffer, so edits
// are spliced into the bytes the client sent rather than into a re-encoded copy.
//
// Supported: UTF-8 (the default, BOM or not), UTF-16 LE/BE (by BOM or by the "<?" pattern),
// and single-byte ASCII-compatible charsets (US-ASCII, ISO-8859-*, windows-125x). The
// latter are decoded as latin1, which maps each byte to one char: the markup is ASCII in all
// of them, so positions stay exact; the gateway only ever writes ASCII (the token is escaped).

export interface EnvelopeText {
  text: string;
  /** byte offsets of ascending string indexes */
  byteOffsets(indexes: readonly number[]): number[];
  /** text written by the gateway, in the document's encoding */
  encode(text: string): Buffer;
}

const SINGLE_BYTE = /^(?:us-ascii|ascii|iso[-_]?8859[-_]\d{1,2}|latin-?[1-9]|l[1-9]|windows-125\d|cp125\d)$/i;

export function decodeEnvelope(body: Buffer, contentType: string | undefined): EnvelopeText {
  const b0 = body[0];
  const b1 = body[1];
  if (b0 === 0xef && b1 === 0xbb && body[2] === 0xbf) return utf8(body);
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0x3c && b1 === 0x00)) return utf16(body, 'le');
  if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0x00 && b1 === 0x3c)) return utf16(body, 'be');
  const label = charsetParameter(contentType) ?? declaredEncoding(body) ?? 'utf-8';
  if (/^utf-?8$/i.test(label)) return utf8(body);
  if (SINGLE_BYTE.test(label)) return singleByte(body);
  throw errors.invalidSoapEnvelope(`unsupported or inconsistent character encoding "${label.slice(0, 40)}"`);
}

function utf8(body: Buffer): EnvelopeText {
  if (!isUtf8(body)) throw errors.invalidSoapEnvelope('the body is not valid UTF-8');
  const text = body.toString('utf8');
  return {
    text,
    byteOffsets(indexes) {
      let at = 0;
      let bytes = 0;
      return indexes.map((index) => {
        bytes += Buffer.byteLength(text.slice(at, index), 'utf8');
        at = index;
        return bytes;
      });
    },
    encode: (s) => Buffer.from(s, 'utf8'),
  };
}

function singleByte(body: Buffer): EnvelopeText {
  return {
    text: body.toString('latin1'),
    byteOffsets: (indexes) => [...indexes],
    encode: (s) => Buffer.from(s, 'latin1'),
  };
}

function utf16(body: Buffer, order: 'le' | 'be'): EnvelopeText {
  if (body.length % 2 !== 0) throw errors.invalidSoapEnvelope('the body is not valid UTF-16');
  const le = order === 'le' ? body : Buffer.from(body).swap16();
  const toOrder = (b: Buffer): Buffer => (order === 'le' ? b : b.swap16());
  return {
    text: le.toString('utf16le'),
    byteOffsets: (indexes) => indexes.map((i) => i * 2),
    encode: (s) => toOrder(Buffer.from(s, 'utf16le')),
  };
}

/** The charset parameter of a Content-Type header, if any. */
function charsetParameter(contentType: string | undefined): string | undefined {
  if (contentType === undefined || mediaType(contentType) === '') return undefined;
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const value = match?.[1] ?? match?.[2];
  return value ? value : undefined;
}

/** The encoding pseudo-attribute of an ASCII-compatible XML declaration, if any. */
function declaredEncoding(body: Buffer): string | undefined {
  const start = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  const head = body.subarray(start, start + 256).toString('latin1');
  return /^<\?xml\s[^>]*?encoding\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(head)?.slice(1).find((v) => v !== undefined);
}
