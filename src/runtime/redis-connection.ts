/**
 * The service's one Redis connection, shared by the state store and BullMQ.
 * A Redis that is missing at start ends start-up with one clear line rather
 * than a retry loop; once running, the connection retries forever.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { probeRedis } from '../adapters/redis/reachability.js';
import { RedisUnreachableError } from '../core/errors/redis-unreachable-error.js';

/** How long start-up waits for Redis to answer; with the rest of start-up, a missing Redis ends the process within 10 s. */
const STARTUP_PROBE_TIMEOUT_MS = 5000;

export async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    // BullMQ needs this; commands wait for a reconnect instead of failing a poll half-way.
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(200 * 2 ** attempt, 10_000),
    lazyConnect: true,
  });
  const unreachable = await probeRedis(url, STARTUP_PROBE_TIMEOUT_MS);
  if (unreachable !== undefined) throw new RedisUnreachableError(url, unreachable);
  redis.on('error', (err: Error) => logger.warn({ err }, 'Redis connection error'));
  await redis.connect();
  await warnAboutEvictionPolicy(redis, logger);
  return redis;
}

/** BullMQ loses jobs if Redis evicts keys; say so at start rather than at the first lost alert. */
async function warnAboutEvictionPolicy(redis: Redis, logger: Logger): Promise<void> {
  try {
    const reply = await redis.config('GET', 'maxmemory-policy');
    const policy = reply[1];
    if (policy !== undefined && policy !== 'noeviction') {
      logger.warn({ policy }, `Redis maxmemory-policy is "${policy}"; BullMQ and the snapshots need "noeviction", or queued alerts and state may be evicted`);
    }
  } catch {
    // Managed Redis often forbids CONFIG; nothing to check then.
  }
}
