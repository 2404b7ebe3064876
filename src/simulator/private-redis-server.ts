/**
 * A throwaway redis-server for `npm run demo` when REDIS_URL does not answer,
 * and for the bench: loopback only, a free port, a temporary directory, no
 * persistence unless asked (the bench turns the append-only file on to count
 * the bytes a poll writes). It is stopped and its directory removed when the
 * demo or the bench ends, however it ends (short of SIGKILL, which no process
 * can intercept).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeRedis } from '../adapters/redis/reachability.js';

export interface PrivateRedisServer {
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  stop(): Promise<void>;
}

/** Thrown when no redis-server binary is on the PATH. */
export class RedisServerNotFoundError extends Error {
  override readonly name = 'RedisServerNotFoundError';
}

const START_TIMEOUT_MS = 5000;

export interface PrivateRedisOptions {
  /** Writes an append-only file (appendfsync everysec, never rewritten) in the temporary directory; off by default. */
  readonly appendOnly?: boolean;
}

/**
 * Starts the server and waits until it answers. `signal` aborts the start (the
 * demo was told to stop meanwhile): the server is stopped and its directory
 * removed before the returned promise rejects. stop() may be called any number of times.
 */
export async function startPrivateRedisServer(signal?: AbortSignal, options: PrivateRedisOptions = {}): Promise<PrivateRedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ahm-demo-redis-'));
  // No automatic rewrite: the file only grows, so its size counts what was written.
  const persistence = options.appendOnly === true ? ['--appendonly', 'yes', '--auto-aof-rewrite-percentage', '0'] : ['--appendonly', 'no'];
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--maxmemory-policy', 'noeviction'],
    {
      stdio: 'ignore',
    },
  );
  child.on('error', () => undefined);
  // A synchronous last resort: if the demo exits by any path that skips stop(), the server still goes.
  const onExit = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener('exit', onExit);
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    })());
  const stopRequested = (): boolean => signal?.aborted === true;
  const aborted = (): Error => new Error('the demo was stopped while its redis-server started');

  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (stopRequested()) {
    await stop();
    throw aborted();
  }
  if (spawned !== undefined) {
    await stop();
    const code = (spawned as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' ? new RedisServerNotFoundError('no redis-server on the PATH') : spawned;
  }
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (stopRequested()) {
      await stop();
      throw aborted();
    }
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`redis-server exited with code ${child.exitCode} at start`);
    }
    const failure = await probeRedis(url, 500);
    if (failure === undefined) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer within ${START_TIMEOUT_MS / 1000} s (${failure})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, pid: child.pid ?? 0, dir, stop };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** A TCP port free right now on 127.0.0.1 (the OS picks it; it may be taken again before use). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
