import { mutate } from '../mutate.js';
import type { Rng } from '../rng.js';

// Generators of the text-shaped inputs: ${VAR} templates, returnTo values, request paths
// under a route's prefix. Each joins pieces that matter to its parser, then now and then
// mutates the result or an entry of the corpus.

export type Generator = () => string;

function pieces(rng: Rng, parts: readonly string[], max: number): string {
  let out = '';
  const count = rng.int(max + 1);
  for (let i = 0; i < count; i++) out += rng.chance(0.15) ? rng.anyString(4) : rng.pick(parts);
  return out;
}

/** 1 in 20 a corpus entry mutated, else `build`, mutated 1 in 3 */
export function withMutations(rng: Rng, corpus: readonly string[], tokens: readonly string[], build: Generator): Generator {
  return () => {
    if (corpus.length > 0 && rng.chance(0.05)) return mutate(rng, rng.pick(corpus), tokens);
    const input = build();
    return rng.chance(0.33) ? mutate(rng, input, tokens) : input;
  };
}

const TEMPLATE_PARTS = ['$', '$$', '${', '}', '{', '${HOME}', '${MISSING}', '${EMPTY:-x}', '${EMPTY}', '${SECRET:-}', ':-', '${HOME:-${EMPTY}}',
  'NAME', '${1X}', '${NESTED}', '${A-B}', '${ }', '$${HOME}', '${HOME:-}}', 'text', ' ', '\n', '#', ':', '"'];

export function templates(rng: Rng, corpus: readonly string[]): Generator {
  return withMutations(rng, corpus, TEMPLATE_PARTS, () => pieces(rng, TEMPLATE_PARTS, 10));
}

const RETURN_TO_PARTS = ['/', '//', '\\', '/\\', '%2f', '%2F', '%5c', '..', '.', '?', '#', '@', ':', 'http:', 'https://evil.example',
  'javascript:alert(1)', '\t', '\n', '\r\n', '\u0000', 'evil.example', ' ', '%09', '%0d%0a', '\u3000', '\uff0f', '\u2215', 'é', '€', '%',
  'a', 'b/c', ';', '&returnTo=', '/%2e%2e/', '\u00a0', '\ud800', 'data:', '////', '/.//', '%40', 'user:pw@'];

export function returnTos(rng: Rng, corpus: readonly string[]): Generator {
  return withMutations(rng, corpus, RETURN_TO_PARTS, () => (rng.chance(0.7) ? '/' : '') + pieces(rng, RETURN_TO_PARTS, 8));
}

const PREFIXES = ['/api/orders', '/soap', '/', '/api', '/api/ordersX', '/api/orders/', '/soap?wsdl'];
const SEGMENTS = ['..', '.', '%2e%2e', '%2E.', '.%2e', '%252e%252e', '..;', '..%00', '%2f', '%5c', '\\', 'a', 'b c', '%', '%zz',
  '%c0%ae%c0%ae', '?', '#', '?x=../..', '', ';jsessionid=1', '%2e', '...', '..\\', 'x%2f..', '%u002e', '\u2025', 'é'];

export function requestPaths(rng: Rng, corpus: readonly string[]): Generator {
  const tokens = [...SEGMENTS, '/'];
  return withMutations(rng, corpus, tokens, () => {
    let url = rng.pick(PREFIXES);
    const count = rng.int(6);
    for (let i = 0; i < count; i++) url += (rng.chance(0.85) ? '/' : rng.pick(['\\', '%2f', ''])) + rng.pick(SEGMENTS);
    return url;
  });
}
