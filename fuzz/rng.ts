// A small seeded generator (xorshift32): fast, reproducible from FUZZ_SEED, no dependency.

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** an unsigned 32-bit integer */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** 0 ≤ n < max */
  int(max: number): number {
    return max <= 0 ? 0 : this.next() % max;
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `count` characters drawn from `alphabet` */
  chars(alphabet: string, count: number): string {
    let out = '';
    for (let i = 0; i < count; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  /** any UTF-16 code unit (lone surrogates included), biased to ASCII */
  codeUnit(): string {
    const roll = this.int(10);
    if (roll < 6) return String.fromCharCode(this.int(0x80));
    if (roll < 8) return String.fromCharCode(this.int(0x100));
    return String.fromCharCode(this.int(0x10000));
  }

  anyString(maxLength: number): string {
    let out = '';
    const length = this.int(maxLength + 1);
    for (let i = 0; i < length; i++) out += this.codeUnit();
    return out;
  }
}
