/**
 * A real Redis Sentinel deployment of the test's own on loopback: a master on
 * 7201, its replica on 7202, and one sentinel on 7203 watching them as "ahm"
 * (quorum 1, down after 1 s), each with its files in one temporary directory.
 * The master can be SIGKILLed; the sentinel then promotes the replica.
 * stop() kills every process and removes the directory, whatever state the
 * deployment is in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './wait.js';

export const sentinelPorts = { master: 7201, replica: 7202, sentinel: 7203 } as const;
export const sentinelMasterName = 'ahm';

export interface TestSentinel {
  /** REDIS_SENTINELS of the deployment. */
  readonly sentinels: string;
  readonly dir: string;
  /** The port of the master, as the sentinel says it now. */
  masterPort(): Promise<number>;
  /** SIGKILLs the process on `port`. */
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** A short-lived client to one process; the caller disconnects it. */
function client(port: number): Redis {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  return redis;
}

async function ask<T>(port: number, question: (redis: Redis) => Promise<T>): Promise<T | undefined> {
  const redis = client(port);
  try {
    await redis.connect();
    return await question(redis);
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

export async function startTestSentinel(): Promise<TestSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'ahm-sentinel-'));
  const children = new Map<number, ChildProcess>();
  // A last resort if the test process dies past its hooks: no process outlives it.
  const onExit = (): void => {
    for (const child of children.values()) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const start = async (port: number, args: string[]): Promise<void> => {
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    const child = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', nodeDir, '--logfile', join(nodeDir, 'redis.log')], {
      stdio: 'ignore',
    });
    child.on('error', () => undefined);
    children.set(port, child);
    await waitFor(`the process on port ${port}`, async () => (await ask(port, (r) => r.ping())) === 'PONG', 10_000);
  };

  const kill = async (port: number): Promise<void> => {
    const child = children.get(port);
    children.delete(port);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };

  const stop = async (): Promise<void> => {
    for (const port of [...children.keys()]) await kill(port);
    rmSync(dir, { recursive: true, force: true });
    process.removeListener('exit', onExit);
  };

  const dataNode = ['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--repl-diskless-sync-delay', '0'];
  try {
    await start(sentinelPorts.master, dataNode);
    await start(sentinelPorts.replica, [...dataNode, '--replicaof', '127.0.0.1', String(sentinelPorts.master)]);
    await waitFor(
      'the replica to finish its first sync',
      async () => ((await ask(sentinelPorts.replica, (r) => r.info('replication'))) ?? '').includes('master_link_status:up'),
      15_000,
    );
    // Sentinel rewrites its configuration file: it must be a file of its own, writable.
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `sentinel monitor ${sentinelMasterName} 127.0.0.1 ${sentinelPorts.master} 1`,
        `sentinel down-after-milliseconds ${sentinelMasterName} 1000`,
        `sentinel failover-timeout ${sentinelMasterName} 3000`,
        '',
      ].join('\n'),
    );
    await start(sentinelPorts.sentinel, [conf, '--sentinel']);
    // The sentinel knows the replica (it learns it from the master's INFO, within about 10 s) before a failover can promote it.
    await waitFor(
      'the sentinel to know the replica',
      async () => ((await ask(sentinelPorts.sentinel, (r) => r.call('SENTINEL', 'REPLICAS', sentinelMasterName))) as unknown[] | undefined)?.length === 1,
      20_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    sentinels: `127.0.0.1:${sentinelPorts.sentinel}`,
    dir,
    async masterPort() {
      const reply = (await ask(sentinelPorts.sentinel, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinelMasterName))) as string[] | undefined;
      if (reply?.[1] === undefined) throw new Error('the sentinel names no master');
      return Number(reply[1]);
    },
    kill,
    stop,
  };
}
