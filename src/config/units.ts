// Durations and sizes as written in the configuration file.

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "500ms", "30s", "15m", "12h", "7d" (decimals allowed: "1.5h") → milliseconds. */
export function parseDuration(s: string | number): number {
  if (typeof s !== 'string') {
    throw new Error(`a duration needs a unit, e.g. "${String(s)}ms" or "${String(s)}s" (plain numbers are not accepted)`);
  }
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(s.trim());
  const unit = match?.[2] === undefined ? undefined : DURATION_UNITS[match[2]];
  if (match?.[1] === undefined || unit === undefined) {
    throw new Error(`"${s}" is not a duration: write a number and a unit (ms, s, m, h or d), e.g. "30s"`);
  }
  return checked(Number(match[1]) * unit, s);
}

/** "100b", "512kb", "1mb", "2gb" (case-insensitive, 1kb = 1024 bytes) or a plain integer → bytes. */
export function parseSize(s: string | number): number {
  if (typeof s === 'number') {
    if (!Number.isSafeInteger(s) || s < 0) throw new Error(`${s} is not a size: use a whole number of bytes or e.g. "1mb"`);
    return s;
  }
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?b)?$/i.exec(s.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? 'b').toLowerCase()];
  if (match?.[1] === undefined || unit === undefined || (match[2] === undefined && match[1].includes('.'))) {
    throw new Error(`"${s}" is not a size: write bytes or a number and a unit (b, kb, mb, gb), e.g. "1mb"`);
  }
  return checked(Number(match[1]) * unit, s);
}

function checked(value: number, written: string): number {
  const rounded = Math.round(value);
  if (!Number.isSafeInteger(rounded)) throw new Error(`"${written}" is too large`);
  return rounded;
}
