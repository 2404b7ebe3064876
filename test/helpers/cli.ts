/**
 * Runs the built CLI (`node dist/src/cli/main.js`, built by `npm run build`,
 * which `npm test` runs first) as a child process, as an operator or cron
 * would, with a minimal environment; collects stdout, stderr and the exit code.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI_PATH = resolve('dist/src/cli/main.js');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Only PATH and HOME from the test's own environment, as spawnWithOutput does; `env` adds the rest. */
export function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd?: string): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd === undefined ? {} : { cwd }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The lines of an output, without the empty one after the last line break. */
export const linesOf = (text: string): string[] => text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1);
