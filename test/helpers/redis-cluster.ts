/**
 * A real Redis Cluster of the test's own on loopback: three masters and one
 * replica each (ports 7101-7106, cluster bus on 17101-17106), each node with
 * its append-only file in one temporary directory, created with
 * `redis-cli --cluster create`. A master can be SIGKILLed; its replica is then
 * promoted (cluster-node-timeout 1 s), and the killed node restarted from its
 * files rejoins as a replica. stop() kills every node and removes the
 * directory, whatever state the cluster is in.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export const clusterPorts = [7101, 7102, 7103, 7104, 7105, 7106] as const;

export interface TestCluster {
  /** REDIS_CLUSTER_NODES of the cluster: its three first nodes (the client finds the others). */
  readonly nodes: string;
  readonly dir: string;
  /** The port of the master that serves `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the node on `port`. */
  kill(port: number): Promise<void>;
  /** Starts the node on `port` again, from its files (nodes.conf and its append-only file). */
  restart(port: number): Promise<void>;
  /** Resolves when every live node says cluster_state:ok and agrees that a live node serves `key`'s slot. */
  waitHealthy(key: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `redis-cli -p P …` on a node; the reply as text. */
async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
  return stdout;
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export async function startTestCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'ahm-cluster-'));
  const children = new Map<number, ChildProcess>();
  // A last resort if the test process dies past its hooks: no node outlives it.
  const onExit = (): void => {
    for (const child of children.values()) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const startNode = async (port: number): Promise<void> => {
    // A directory per node: nodes.conf and the append-only file of each stay apart.
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '1000',
        '--dir',
        nodeDir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
        '--logfile',
        join(nodeDir, 'redis.log'),
        // A replica syncs at once (the default waits 5 s for more replicas); one that never synced cannot take over.
        '--repl-diskless-sync-delay',
        '0',
      ],
      { stdio: 'ignore' },
    );
    child.on('error', () => undefined);
    children.set(port, child);
    await waitFor(`the cluster node on port ${port}`, () => answers(port), 10_000);
  };

  const kill = async (port: number): Promise<void> => {
    const child = children.get(port);
    children.delete(port);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };

  const slotOf = async (key: string): Promise<number> => {
    const [port] = children.keys();
    if (port === undefined) throw new Error('no cluster node is running');
    return Number((await cli(port, 'CLUSTER', 'KEYSLOT', key)).trim());
  };

  /** Per live node: its view of the slot's master port, and whether it says cluster_state:ok. */
  const views = async (slot: number): Promise<{ ok: boolean; master: number | undefined }[]> =>
    Promise.all(
      [...children.keys()].map(async (port) => {
        const info = await cli(port, 'CLUSTER', 'INFO').catch(() => '');
        const nodes = await cli(port, 'CLUSTER', 'NODES').catch(() => '');
        let master: number | undefined;
        for (const line of nodes.split('\n')) {
          const [, address, flags, , , , , , ...ranges] = line.trim().split(' ');
          if (address === undefined || flags === undefined || !flags.includes('master') || flags.includes('fail')) continue;
          const serves = ranges.some((range) => {
            const [from, to] = range.split('-').map(Number);
            return from !== undefined && slot >= from && slot <= (to ?? from);
          });
          if (serves) master = Number(/:(\d+)@/.exec(address)?.[1]);
        }
        return { ok: info.includes('cluster_state:ok'), master };
      }),
    );

  try {
    for (const port of clusterPorts) await startNode(port);
    await run('redis-cli', ['--cluster', 'create', ...clusterPorts.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 60_000,
    });
  } catch (error) {
    for (const port of [...children.keys()]) await kill(port);
    rmSync(dir, { recursive: true, force: true });
    process.removeListener('exit', onExit);
    throw error;
  }

  const cluster: TestCluster = {
    nodes: clusterPorts
      .slice(0, 3)
      .map((p) => `127.0.0.1:${p}`)
      .join(','),
    dir,
    async masterOf(key) {
      const slot = await slotOf(key);
      const [view] = (await views(slot)).filter((v) => v.master !== undefined);
      if (view?.master === undefined) throw new Error(`no master serves slot ${slot}`);
      return view.master;
    },
    kill,
    restart: startNode,
    async waitHealthy(key, timeoutMs = 30_000) {
      const slot = await slotOf(key);
      await waitFor(
        'every live cluster node to say cluster_state:ok and agree on the master of the slot',
        async () => {
          const all = await views(slot);
          const masters = new Set(all.map((v) => v.master));
          // A master just killed is still listed (without "fail") until the others notice, about a node timeout later.
          const [master] = masters;
          return all.every((v) => v.ok) && masters.size === 1 && master !== undefined && children.has(master);
        },
        timeoutMs,
      );
    },
    async stop() {
      for (const port of [...children.keys()]) await kill(port);
      rmSync(dir, { recursive: true, force: true });
      process.removeListener('exit', onExit);
    },
  };
  try {
    await cluster.waitHealthy('{ahm}');
    await waitFor(
      'every replica to finish its first sync',
      async () => {
        const infos = await Promise.all(clusterPorts.map((port) => cli(port, 'INFO', 'replication').catch(() => '')));
        const replicas = infos.filter((info) => info.includes('role:slave'));
        return replicas.length === 3 && replicas.every((info) => info.includes('master_link_status:up'));
      },
      30_000,
    );
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
