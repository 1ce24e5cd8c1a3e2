import type { Rng } from './rng.js';

// Mutations of a string input: flips, insertions of characters and of tokens that matter to
// the parser under test, deletions, duplicated and swapped slices, truncation. A few at a
// time, so a mutant keeps most of its seed's structure.

export function mutate(rng: Rng, input: string, tokens: readonly string[], rounds = 1 + rng.int(4)): string {
  let s = input;
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(s.length + 1);
    switch (rng.int(8)) {
      case 0: // replace one character
        s = s.slice(0, at) + rng.codeUnit() + s.slice(at + 1);
        break;
      case 1: // insert a token the parser cares about
        s = s.slice(0, at) + rng.pick(tokens) + s.slice(at);
        break;
      case 2: { // delete a run
        const length = 1 + rng.int(8);
        s = s.slice(0, at) + s.slice(at + length);
        break;
      }
      case 3: { // duplicate a slice somewhere else
        const from = rng.int(s.length + 1);
        const slice = s.slice(from, from + 1 + rng.int(16));
        s = s.slice(0, at) + slice + s.slice(at);
        break;
      }
      case 4: // truncate
        s = s.slice(0, at);
        break;
      case 5: // replace a character by a token
        s = s.slice(0, at) + rng.pick(tokens) + s.slice(at + 1);
        break;
      case 6: { // flip a bit of a character
        const code = s.charCodeAt(at);
        if (!Number.isNaN(code)) s = s.slice(0, at) + String.fromCharCode(code ^ (1 << rng.int(8))) + s.slice(at + 1);
        break;
      }
      default: { // swap two slices
        const a = rng.int(s.length + 1);
        const b = rng.int(s.length + 1);
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const mid = lo + rng.int(hi - lo + 1);
        s = s.slice(0, lo) + s.slice(mid, hi) + s.slice(lo, mid) + s.slice(hi);
      }
    }
  }
  return s;
}
