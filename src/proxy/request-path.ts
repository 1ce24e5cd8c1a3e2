import { errors } from '../errors.js';

// The path of a request as routing saw it, and the checks an upstream path must pass.
//
// fastify's router (find-my-way) matches the path after decodeURI, except that the escapes
// of # $ % & + , / : ; = ? @ stay as sent (so %2F never becomes a separator). The upstream
// path is cut from that path, never from the raw target: a percent-encoded prefix character
// (`/api/%6Frders/x`, routed to the route /api/orders) would otherwise move the cut onto a
// sibling path. `routedPath` writes the routed path back as a URI path: escapes of
// unreserved characters (and of ! ' ( ) *) decoded, the characters routing kept encoded kept
// as sent, any other escape (spaces, controls, non-ASCII bytes, backslash) kept with
// upper-case hex. So it starts with the prefix exactly when routing matched the prefix, and
// the upstream gets the path routing saw, in a spelling that cannot change its meaning.
// Raw characters pass as they came (node's parser allows only printable ASCII).

/** the escapes find-my-way leaves as they are: # $ % & + , / : ; = ? @ */
const KEPT_ESCAPES = new Set([0x23, 0x24, 0x25, 0x26, 0x2b, 0x2c, 0x2f, 0x3a, 0x3b, 0x3d, 0x3f, 0x40]);
/** decoded characters written as themselves: unreserved (RFC 3986) and ! ' ( ) * */
const PLAIN = /^[A-Za-z0-9\-._~!'()*]$/;

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** `path[0, end)` (no query) as routing saw it, written as a URI path (see above). */
export function routedPath(path: string, end: number): string {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i !== -1 && i < end; i = path.indexOf('%', i + 1)) {
    const high = hexValue(path.charCodeAt(i + 1));
    const low = hexValue(path.charCodeAt(i + 2));
    // routing refuses a broken escape (decodeURI throws) before any handler runs
    if (high < 0 || low < 0 || i + 2 >= end) throw errors.invalidRequest('the path holds a malformed percent-escape');
    const byte = high * 16 + low;
    if (KEPT_ESCAPES.has(byte)) {
      i += 2;
      continue;
    }
    const char = String.fromCharCode(byte);
    out += path.slice(from, i) + (byte < 0x80 && PLAIN.test(char) ? char : `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`);
    from = i + 3;
    i += 2;
  }
  return out + path.slice(from, end);
}

/**
 * Whether `path[start, end)` holds a ".." segment in any spelling an upstream might resolve:
 * percent-encoded once or more (`%2e%2e`, `%252e%252e`), split by backslashes, or with a
 * path parameter (`..;x`, as servlet containers read it).
 */
export function climbsOut(path: string, start: number, end: number): boolean {
  const dot = path.indexOf('.', start);
  const percent = path.indexOf('%', start);
  if ((dot === -1 || dot >= end) && (percent === -1 || percent >= end)) return false;
  let segment = start;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 47 : path.charCodeAt(i);
    if (c !== 47 && c !== 92) continue;
    if (isDotDot(path, segment, i)) return true;
    segment = i + 1;
  }
  return false;
}

function isDotDot(path: string, start: number, end: number): boolean {
  let param = end;
  for (let i = start; i < end; i++) {
    const c = path.charCodeAt(i);
    if (c === 37) return decodedClimbsOut(path.slice(start, end));
    if (c === 59 && param === end) param = i;
  }
  return param - start === 2 && path.charCodeAt(start) === 46 && path.charCodeAt(start + 1) === 46;
}

/** rare: a segment with escapes, decoded until nothing changes (at most 4 times) */
function decodedClimbsOut(segment: string): boolean {
  let text = segment;
  for (let round = 0; round < 4; round++) {
    const decoded = text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (decoded === text) break;
    text = decoded;
  }
  return text.split(/[\\/]/).some((part) => /^\.\.(?:[;\0]|$)/.test(part));
}
