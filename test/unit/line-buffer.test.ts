import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineBuffer } from '../../src/observability/line-buffer.js';

describe('LineBuffer', () => {
  let dir: string;
  let file: string;
  let fd: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'line-buffer-'));
    file = join(dir, 'out.log');
    fd = openSync(file, 'w');
  });
  afterEach(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  const settle = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 10));
  };

  it('writes every line, in order, multi-byte characters intact, across many chunks', async () => {
    const buffer = new LineBuffer(fd);
    const lines = Array.from({ length: 5_000 }, (_, i) => `{"n":${i},"url":"/api/é€😀/${'x'.repeat(i % 300)}"}\n`);
    for (const line of lines) buffer.add(line);
    await buffer.close();
    await settle(() => readFileSync(file, 'utf8') === lines.join(''));
    expect(readFileSync(file, 'utf8')).toBe(lines.join(''));
  });

  it('writes a line longer than a chunk whole, between its neighbours', async () => {
    const buffer = new LineBuffer(fd);
    const long = `${'y'.repeat(100_000)}\n`;
    buffer.add('first\n');
    buffer.add(long);
    buffer.add('last\n');
    await buffer.close();
    const expected = `first\n${long}last\n`;
    await settle(() => readFileSync(file, 'utf8') === expected);
    expect(readFileSync(file, 'utf8')).toBe(expected);
  });

  it('writes gathered lines within about a second without a flush', async () => {
    const buffer = new LineBuffer(fd);
    buffer.add('alone\n');
    expect(readFileSync(file, 'utf8')).toBe('');
    await settle(() => readFileSync(file, 'utf8') === 'alone\n');
    expect(readFileSync(file, 'utf8')).toBe('alone\n');
    await buffer.close();
  });
});
