/**
 * Whether the Redis at REDIS_URL answers, asked once at start with a deadline.
 * The service's own connection retries forever (BullMQ needs that once it
 * runs); before it runs, an operator who forgot Redis wants one clear line and
 * an exit, not a retry loop or ioredis's "Connection is closed.".
 */
import { Redis } from 'ioredis';
import { redactRedisUrl } from '../../core/errors/redis-unreachable-error.js';
import { toError } from '../../core/errors/to-error.js';
import { describeClusterTarget, nodeUrl } from '../../core/redis-cluster-target.js';
import { describeSentinelTarget, type RedisSentinelTarget } from '../../core/redis-sentinel-target.js';
import type { RedisTarget } from './redis-client.js';

/**
 * Redis answered, but refused the database that REDIS_URL's path names. One
 * line: REDIS_URL with the password hidden, and Redis's answer.
 */
class RedisDatabaseRefusedError extends Error {
  override readonly name = 'RedisDatabaseRefusedError';

  constructor(url: string, reason: string) {
    super(
      `Redis refused the database of REDIS_URL=${redactRedisUrl(url)} (${hidePassword(reason, url)}); name one it has (0 to its "databases" setting − 1) or none.`,
    );
  }
}

/** The database number of REDIS_URL's path, or undefined when there is none. */
function databaseOf(url: string): number | undefined {
  const match = /^\/(\d+)$/.exec(new URL(url).pathname);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Connects, sends PING, SELECTs the database of REDIS_URL's path if it has one
 * (throwing RedisDatabaseRefusedError if Redis refuses it) and disconnects. Resolves to undefined when Redis
 * answered PONG within `timeoutMs`, otherwise to why not (never containing the password).
 * `clusterNode` says whether the URL is one node of a Redis Cluster: a node of the other kind is refused
 * too (a cluster node answers a standalone client's commands with MOVED, and a standalone Redis has no slot map).
 * With `sentinel`, the sentinels are asked for the master once each, and the master found is probed with
 * the URL's credentials and database (ioredis also checks that it answers ROLE as a master).
 */
export async function probeRedis(url: string, timeoutMs: number, clusterNode = false, sentinel?: RedisSentinelTarget): Promise<string | undefined> {
  let lastError: Error | undefined;
  const viaSentinel =
    sentinel === undefined
      ? {}
      : {
          sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
          name: sentinel.name,
          sentinelRetryStrategy: () => null,
          enableTLSForSentinelMode: url.toLowerCase().startsWith('rediss:'),
        };
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    ...viaSentinel,
  });
  probe.on('error', (error: Error) => (lastError = error));
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      probe.connect().then(() => probe.ping()),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
    ]);
    if (answer !== 'PONG') return answer === 'timeout' ? `no answer within ${timeoutMs / 1000} s` : `unexpected reply to PING`;
    const mismatch = await clusterMismatch(probe, clusterNode);
    if (mismatch !== undefined) return mismatch;
    const db = databaseOf(url);
    if (db !== undefined) {
      // ioredis only logs a refused SELECT, then stays on database 0: ask, and stop start-up if refused.
      try {
        await probe.select(db);
      } catch (error) {
        throw new RedisDatabaseRefusedError(url, toError(error).message);
      }
    }
    return undefined;
  } catch (error) {
    if (error instanceof RedisDatabaseRefusedError) throw error;
    // ioredis rejects with "Connection is closed."; the 'error' event holds the cause (ECONNREFUSED, ENOTFOUND, WRONGPASS…).
    const reason = (lastError ?? toError(error)).message;
    return hidePassword(reason, url);
  } finally {
    clearTimeout(timer);
    probe.disconnect();
  }
}

/** probeRedis's answer for a standalone Redis named as a cluster seed. */
const notClusterNode = 'it is not a Redis Cluster node (cluster_enabled:0): name it in REDIS_URL alone, without REDIS_CLUSTER_NODES';

/** Why the node is not of the kind asked for, or undefined (also when INFO is refused: managed Redis may forbid it). */
async function clusterMismatch(probe: Redis, clusterNode: boolean): Promise<string | undefined> {
  let info: string;
  try {
    info = await probe.info('cluster');
  } catch {
    return undefined;
  }
  const enabled = /cluster_enabled:(\d)/.exec(info)?.[1];
  if (enabled === undefined) return undefined;
  if (clusterNode && enabled === '0') return notClusterNode;
  if (!clusterNode && enabled === '1') return 'it is a node of a Redis Cluster: name the cluster with REDIS_CLUSTER_NODES or a redis+cluster:// REDIS_URL';
  return undefined;
}

function hidePassword(text: string, url: string): string {
  let password: string;
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text;
  }
  return password === '' ? text : text.split(password).join('***');
}

/**
 * probeRedis for a target: REDIS_URL, the master a sentinel names, or the seeds of a cluster in turn (one
 * that answers is enough: the Cluster client learns the others from it), each
 * given its share of `timeoutMs`. A seed that answers but is a standalone Redis
 * ends the probe: the configuration is wrong, whatever the other seeds say. Resolves to undefined, or to where it looked
 * (`shown`: REDIS_URL or the cluster, password hidden) and why each failed.
 */
export async function probeRedisTarget(target: RedisTarget, timeoutMs: number): Promise<{ readonly shown: string; readonly reason: string } | undefined> {
  const { cluster, sentinel } = target;
  if (sentinel !== undefined) {
    const reason = await probeRedis(target.url, timeoutMs, false, sentinel);
    return reason === undefined ? undefined : { shown: describeSentinelTarget(sentinel), reason };
  }
  if (cluster === undefined) {
    const reason = await probeRedis(target.url, timeoutMs);
    return reason === undefined ? undefined : { shown: target.url, reason };
  }
  const reasons: string[] = [];
  for (const node of cluster.nodes) {
    const reason = await probeRedis(nodeUrl(cluster, node), timeoutMs / cluster.nodes.length, true);
    if (reason === undefined) return undefined;
    const shown = `${node.host.includes(':') ? `[${node.host}]` : node.host}:${node.port}: ${reason}`;
    if (reason === notClusterNode) return { shown: describeClusterTarget(cluster), reason: shown };
    reasons.push(shown);
  }
  return { shown: describeClusterTarget(cluster), reason: reasons.join('; ') };
}
