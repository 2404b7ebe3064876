/**
 * Runs the service (or the demo) as operators do, as a child process with a
 * minimal environment, and collects what it prints on stdout and stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Spawned {
  readonly child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(this: void): string;
}

export function spawnWithOutput(command: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd?: string): Spawned {
  // Only PATH and HOME from the test's own environment: the service must not depend on more.
  const child = spawn(command, args, {
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that killGroup reaches what `npm start` runs too.
    detached: true,
    ...(cwd === undefined ? {} : { cwd }),
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/**
 * SIGKILL (or `signal`) to the child's whole process group: `npm start` cannot
 * forward a SIGKILL to the node it runs, which would be left polling, orphaned,
 * after the test. A group that is already gone is fine.
 */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
