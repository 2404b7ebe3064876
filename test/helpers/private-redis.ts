/**
 * A redis-server of the test's own on a free port, for tests that stop,
 * restart or empty Redis without disturbing the shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { freePort } from '../../src/simulator/private-redis-server.js';
import { waitFor } from './wait.js';

export { freePort } from '../../src/simulator/private-redis-server.js';

export interface PrivateRedis {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends a signal to the server: SIGSTOP makes a Redis that accepts commands and never answers them. */
  signal(signal: NodeJS.Signals): void;
}

export async function createPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const answers = async (): Promise<boolean> => {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  };
  return {
    url,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
        stdio: 'ignore',
      });
      await waitFor('the private redis-server', answers, 10_000);
    },
    signal(signal) {
      child?.kill(signal);
    },
    async stop() {
      child?.kill('SIGCONT');
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}
