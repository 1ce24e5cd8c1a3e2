import type { RungName, RungResult } from './ladder.js';
import { spread } from './stats.js';

// The targets, as the bench judges them from the figures of one run (medians).

export interface Target {
  what: string;
  value: string;
  goal: string;
  met: boolean;
}

export function ladderTargets(results: readonly RungResult[]): Target[] {
  const rung = (name: RungName) => results.find((r) => r.name === name);
  const l1 = rung('L1');
  const l2 = rung('L2');
  const l3 = rung('L3');
  const l4 = rung('L4');
  const l3t = rung('L3t');
  if (!l1 || !l2 || !l3 || !l4 || !l3t) return [];
  const ratio = (what: string, a: RungResult, b: RungResult, goal: number): Target => {
    const value = a.throughput.median / b.throughput.median;
    // the same ratio by CPU per request, which the load generator's share of the machine does not move
    const byCpu = b.cpuMicrosPerRequest.median / a.cpuMicrosPerRequest.median;
    return { what, value: `${value.toFixed(3)} (by CPU µs/req: ${byCpu.toFixed(3)})`, goal: `>= ${goal}`, met: value >= goal };
  };
  // round by round (the two ran seconds apart), then the median: a noisy moment that falls
  // on one rung's run moves one difference, not the figure
  const added = spread(l3.p99s.map((p99, i) => p99 - (l2.p99s[i] ?? NaN))).median;
  const ofMedians = l3.p99.median - l2.p99.median;
  return [
    ratio('L3/L2 throughput', l3, l2, 0.95),
    ratio('L3/L1 throughput', l3, l1, 0.65),
    ratio('L3/L4 throughput', l3, l4, 2.5),
    ratio('L3t/L3 throughput (traces on at 1.0)', l3t, l3, 0.85),
    {
      what: 'added p99 of L3 over L2',
      value: `${added.toFixed(2)} ms, median of the rounds' differences (of the medians: ${ofMedians.toFixed(2)} ms)`,
      goal: '<= 1 ms',
      met: added <= 1,
    },
  ];
}

export function formatTargets(targets: readonly Target[]): string {
  const width = Math.max(...targets.map((t) => t.what.length));
  return targets
    .map((t) => `  ${t.met ? 'met   ' : 'MISSED'}  ${t.what.padEnd(width)}  ${t.value}  (target ${t.goal})`)
    .join('\n');
}
