import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// One short round of `npm run bench` (--quick), so that the bench cannot rot: every part
// runs and prints, and its correctness checks hold (one refresh per storm, no session lost,
// no failed call). No figure is judged here: timings belong to the bench itself.

const run = promisify(execFile);
const BENCH = resolve('dist/bench/run.js');

describe('npm run bench --quick', () => {
  it('runs every part and its checks hold', async () => {
    const { stdout } = await run(process.execPath, [BENCH, '--quick'], { timeout: 240_000, maxBuffer: 10 * 1024 * 1024 });
    for (const rung of ['L0', 'L1', 'L2', 'L3', 'L4']) expect(stdout).toMatch(new RegExp(`^${rung} `, 'm'));
    expect(stdout).toContain('L3/L2 throughput');
    expect(stdout).toContain('added p99 of L3 over L2');
    expect(stdout).toContain('Redis memory per session');
    expect(stdout).toMatch(/storm: \d+ sessions expiring together/);
    expect(stdout).toContain('WebSocket messages/s, gateway/direct');
    expect(stdout).toContain('event stream: p99 added per event');
    expect(stdout).toContain('HTTPS upstream / plain upstream throughput');
    expect(stdout).toContain('DPoP / bearer (CPU per call)');
    expect(stdout).toContain('L3t/L3 throughput');
    expect(stdout).not.toContain('FAILED');
  }, 300_000);
});
