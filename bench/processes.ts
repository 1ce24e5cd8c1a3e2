import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

// Child processes of the bench, each optionally pinned to one CPU core with taskset.

export interface Started {
  child: ChildProcess;
  port: number;
  /** user + system CPU time the process has used so far, in microseconds */
  cpuMicros(): number;
  stop(): Promise<void>;
}

const canPin = existsSync('/usr/bin/taskset');
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The command line, with taskset in front when the machine has it and a core is given. */
export function pinned(core: number | undefined, command: string, args: string[]): [string, string[]] {
  return canPin && core !== undefined ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

/**
 * Pins this process (all its threads) to `core` while `fn` runs, then gives it back the
 * cores it had: for a load generated here, so that it keeps to the load core like wrk does.
 */
export async function onCore<T>(core: number, fn: () => Promise<T>): Promise<T> {
  if (!canPin) return fn();
  const pid = String(process.pid);
  const mask = /([0-9a-f]+)\s*$/i.exec(execFileSync('taskset', ['-p', pid], { encoding: 'utf8' }))?.[1];
  execFileSync('taskset', ['-a', '-p', '-c', String(core), pid], { stdio: 'ignore' });
  try {
    return await fn();
  } finally {
    if (mask) execFileSync('taskset', ['-a', '-p', mask, pid], { stdio: 'ignore' });
  }
}

export function cpuMicrosOf(pid: number): number {
  // /proc/PID/stat: fields after the ")" of the command name; utime and stime are 14 and 15
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / TICKS_PER_SECOND;
}

/**
 * A process's main thread (its event loop) so far, in microseconds: time on a CPU, and time
 * runnable but waiting for one (the scheduler's run queue), from /proc/PID/schedstat.
 */
export function mainThreadMicros(pid: number): { run: number; wait: number } {
  const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { run: (run ?? NaN) / 1000, wait: (wait ?? NaN) / 1000 };
}

/**
 * Starts a server that prints "listening PORT" on stdout once it listens (or, given
 * `port`, one that is ready when `ready()` resolves). Its other output is kept for errors.
 */
export async function startServer(
  core: number | undefined,
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; port?: number; ready?: () => Promise<void>; timeoutMs?: number } = {},
): Promise<Started> {
  const [cmd, argv] = pinned(core, command, args);
  const child = spawn(cmd, argv, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString();
  };
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const port = await new Promise<number>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`${command} did not start in time:\n${output}`)), opts.timeoutMs ?? 15_000);
    const done = (p: number) => {
      clearTimeout(timer);
      ready(p);
    };
    void exited.then(() => fail(new Error(`${command} ${args.join(' ')} exited:\n${output}`)));
    if (opts.port !== undefined) {
      child.stdout!.on('data', keep);
      const port = opts.port;
      void (opts.ready ?? (() => Promise.resolve()))().then(() => done(port), fail);
      return;
    }
    let line = '';
    const onData = (chunk: Buffer) => {
      line += chunk.toString();
      const match = /listening (\d+)/.exec(line);
      if (!match) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // anything else it prints is not read
      done(Number(match[1]));
    };
    child.stdout!.on('data', onData);
  });
  return {
    child,
    port,
    cpuMicros: () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${command} ${args.join(' ')} died (${child.exitCode ?? child.signalCode}):\n${output}`);
      }
      return cpuMicrosOf(child.pid!);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
