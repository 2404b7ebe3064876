/**
 * The one type of a Redis connection across the service, the CLI and BullMQ:
 * a standalone ioredis client (also when Sentinel names the master), or an
 * ioredis Cluster client. Both take the same
 * commands and defined scripts; a Cluster routes each command (and each script,
 * by its first key) to the master of its slot, follows MOVED/ASK redirections,
 * and refreshes its slot map when a replica is promoted.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisClusterTarget } from '../../core/redis-cluster-target.js';
import type { RedisSentinelTarget } from '../../core/redis-sentinel-target.js';

export type RedisClient = Redis | Cluster;

/** Where to connect: REDIS_URL, the cluster it names (config.ts, `redisCluster`), or the master Sentinel names (`redisSentinel`). */
export interface RedisTarget {
  readonly url: string;
  readonly cluster: RedisClusterTarget | undefined;
  /** Set: REDIS_URL gives only the master's user, password, TLS and database; its host is not used. */
  readonly sentinel?: RedisSentinelTarget | undefined;
}

/** What a caller may set of a connection; the same for a standalone Redis and for each node of a cluster. */
export type RedisClientOptions = Pick<RedisOptions, 'maxRetriesPerRequest' | 'connectTimeout' | 'commandTimeout' | 'lazyConnect'> & {
  /** Delay before the next reconnection (of the cluster as a whole on a cluster), or null to give up. */
  readonly retryStrategy: (attempt: number) => number | null;
};

/**
 * A client for the target, not yet connected when `lazyConnect` is set. On a
 * cluster, the cluster's credentials and TLS apply to every node it discovers.
 */
export function createRedisClient(target: RedisTarget, options: RedisClientOptions): RedisClient {
  const { retryStrategy, lazyConnect, ...perNode } = options;
  const lazy = lazyConnect === undefined ? {} : { lazyConnect };
  if (target.sentinel !== undefined) {
    // ioredis asks the sentinels in turn for the master's address, checks that it answers ROLE as a master,
    // and on a lost connection (the master died, or a failover demoted it: Sentinel kills its clients) asks again.
    return new Redis(target.url, {
      ...perNode,
      ...lazy,
      retryStrategy,
      sentinels: target.sentinel.sentinels.map(({ host, port }) => ({ host, port })),
      name: target.sentinel.name,
      sentinelRetryStrategy: retryStrategy,
      // rediss:// in REDIS_URL: the master and replicas over TLS (the sentinels are asked in plain text).
      enableTLSForSentinelMode: target.url.toLowerCase().startsWith('rediss:'),
    });
  }
  if (target.cluster === undefined) return new Redis(target.url, { ...perNode, retryStrategy, ...lazy });
  const { nodes, username, password, tls } = target.cluster;
  return new Cluster(
    nodes.map(({ host, port }) => ({ host, port })),
    {
      ...lazy,
      clusterRetryStrategy: retryStrategy,
      // No CLUSTER INFO check before "ready": while a failover is under way cluster_state is "fail", and a
      // (re)connect that sees it disconnects and retries, leaving the connect() of that attempt unsettled
      // (ioredis 6). BullMQ awaits that connect() to recover its blocking client, and its workers stopped
      // taking jobs. Commands sent meanwhile get CLUSTERDOWN, which the client retries (retryDelayOnClusterDown).
      enableReadyCheck: false,
      redisOptions: {
        ...perNode,
        ...(username === undefined ? {} : { username }),
        ...(password === undefined ? {} : { password }),
        ...(tls ? { tls: {} } : {}),
      },
    },
  );
}

/** Whether the connection is to a cluster; narrows the type. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}
