/**
 * The service's one Redis connection, shared by the state store and BullMQ:
 * a standalone Redis (maybe found through Sentinel, `redisSentinel`), or a Redis Cluster (config.ts, `redisCluster`).
 * A Redis that is missing at start ends start-up with one clear line rather
 * than a retry loop; once running, the connection retries forever.
 */
import type { Logger } from 'pino';
import { probeRedisTarget } from '../adapters/redis/reachability.js';
import { createRedisClient, isCluster, type RedisClient, type RedisTarget } from '../adapters/redis/redis-client.js';
import { RedisUnreachableError } from '../core/errors/redis-unreachable-error.js';

/** How long start-up waits for Redis to answer; with the rest of start-up, a missing Redis ends the process within 10 s. */
const STARTUP_PROBE_TIMEOUT_MS = 5000;

export async function connectRedis(target: RedisTarget, logger: Logger): Promise<RedisClient> {
  const redis = createRedisClient(target, {
    // BullMQ needs this; commands wait for a reconnect (or, on a cluster, a failover) instead of failing a poll half-way.
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(200 * 2 ** attempt, 10_000),
    lazyConnect: true,
  });
  const unreachable = await probeRedisTarget(target, STARTUP_PROBE_TIMEOUT_MS);
  if (unreachable !== undefined) throw new RedisUnreachableError(unreachable.shown, unreachable.reason);
  redis.on('error', (err: Error) => logger.warn({ err }, 'Redis connection error'));
  await redis.connect();
  await warnAboutEvictionPolicy(redis, logger);
  return redis;
}

/**
 * BullMQ loses jobs if Redis evicts keys; say so at start rather than at the first lost alert.
 * On a cluster CONFIG GET answers for one node only, so every master is asked.
 */
async function warnAboutEvictionPolicy(redis: RedisClient, logger: Logger): Promise<void> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    try {
      const reply = await node.config('GET', 'maxmemory-policy');
      const policy = reply[1];
      if (policy !== undefined && policy !== 'noeviction') {
        const where = isCluster(redis) ? { node: `${node.options.host ?? ''}:${node.options.port ?? ''}` } : {};
        logger.warn(
          { policy, ...where },
          `Redis maxmemory-policy is "${policy}"; BullMQ and the snapshots need "noeviction", or queued alerts and state may be evicted`,
        );
      }
    } catch {
      // Managed Redis often forbids CONFIG; nothing to check then.
    }
  }
}
