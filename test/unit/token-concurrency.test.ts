import { describe, expect, it } from 'vitest';
import { TokenConcurrency } from '../../src/oidc/token-concurrency.js';

// The cap on token requests in flight: tasks are released by hand (deferred promises), so
// the test sees exactly who runs and who waits, with no timing involved.

interface Gate {
  promise: Promise<string>;
  open(value: string): void;
  fail(err: Error): void;
}

function gate(): Gate {
  let open!: (value: string) => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<string>((resolve, reject) => { open = resolve; fail = reject; });
  return { promise, open, fail };
}

/** lets every pending promise reaction run */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TokenConcurrency', () => {
  it('runs at most `limit` tasks at once; the rest start in arrival order as slots free up', async () => {
    const cap = new TokenConcurrency(2);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const results = gates.map((g, i) => cap.run(async () => {
      started.push(i);
      running += 1;
      peak = Math.max(peak, running);
      try {
        return await g.promise;
      } finally {
        running -= 1;
      }
    }));
    await settle();
    expect(started).toEqual([0, 1]);
    expect([cap.active, cap.waiting]).toEqual([2, 3]);

    gates[1]!.open('b'); // the second finishes first: the third in line takes its place
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.open('a');
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const [i, g] of gates.entries()) g.open(String.fromCharCode(97 + i));
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect([cap.active, cap.waiting]).toEqual([0, 0]);
  });

  it('frees the slot of a task that fails (rejects or throws) and passes the error on', async () => {
    const cap = new TokenConcurrency(1);
    const first = gate();
    const failing = cap.run(() => first.promise);
    const throwing = cap.run(() => { throw new Error('sync'); });
    const after = cap.run(async () => 'ran');
    await settle();
    expect([cap.active, cap.waiting]).toEqual([1, 2]);
    first.fail(new Error('idp down'));
    await expect(failing).rejects.toThrow('idp down');
    await expect(throwing).rejects.toThrow('sync');
    expect(await after).toBe('ran');
    expect([cap.active, cap.waiting]).toEqual([0, 0]);
  });

  it('runs a task at once while a slot is free, and refuses a limit that is not a positive integer', async () => {
    const cap = new TokenConcurrency(3);
    let ran = false;
    const result = cap.run(async () => { ran = true; return 1; });
    expect(ran).toBe(true); // started within the call, no tick lost
    expect(await result).toBe(1);
    for (const bad of [0, -1, 1.5, NaN]) expect(() => new TokenConcurrency(bad)).toThrow(RangeError);
  });
});
