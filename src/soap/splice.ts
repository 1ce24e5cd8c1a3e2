import type { EnvelopeText } from './encoding.js';

/** Replace the text between string indexes [start, end) with `text`. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * The original bytes with the edits applied: every byte outside the edited ranges is copied
 * from `body` as it is; only the edits' text is encoded (in the document's encoding).
 */
export function splice(body: Buffer, decoded: EnvelopeText, edits: readonly Edit[]): Buffer {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  const indexes = sorted.flatMap((edit) => [edit.start, edit.end]);
  indexes.forEach((index, i) => {
    if (i > 0 && index < indexes[i - 1]!) throw new Error('overlapping envelope edits');
  });
  const offsets = decoded.byteOffsets(indexes);
  const pieces: Buffer[] = [];
  let copied = 0;
  sorted.forEach((edit, i) => {
    const start = offsets[2 * i]!;
    pieces.push(body.subarray(copied, start), decoded.encode(edit.text));
    copied = offsets[2 * i + 1]!;
  });
  pieces.push(body.subarray(copied));
  return Buffer.concat(pieces);
}
