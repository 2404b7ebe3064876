/**
 * A Redis connection for one CLI command. Unlike the service's (which waits
 * out outages forever, as BullMQ needs), it gives up quickly: a person or a
 * cron job at the other end wants an answer, not a hung terminal. It is
 * probed first, so a missing Redis is one clear line (REDIS_URL with the
 * password hidden), never ioredis's "Connection is closed.".
 */
import { probeRedisTarget } from '../adapters/redis/reachability.js';
import { createRedisClient, type RedisClient, type RedisTarget } from '../adapters/redis/redis-client.js';
import { redisLocation } from '../core/errors/redis-unreachable-error.js';
import { firstLine, toError } from '../core/errors/to-error.js';
import { cell } from './terminal-text.js';

export interface RedisSession {
  readonly redis: RedisClient;
  /** Closes the connection (QUIT, or a disconnect if that fails). */
  close(): Promise<void>;
}

/** How long the CLI waits for Redis to answer, to connect and then per command. */
export const redisTimeouts = { probeMs: 3000, commandMs: 30_000 } as const;

/** A connected session, or why Redis cannot be used: one secret-free sentence. */
export async function openRedisSession(target: RedisTarget): Promise<RedisSession | { readonly unreachable: string }> {
  let failure: { readonly shown: string; readonly reason: string } | undefined;
  try {
    failure = await probeRedisTarget(target, redisTimeouts.probeMs);
  } catch (error) {
    // A refused database: its message is already the whole sentence, password hidden.
    return { unreachable: toError(error).message };
  }
  if (failure !== undefined) return { unreachable: `${redisLocation(failure.shown)} (${failure.reason})` };
  const redis = createRedisClient(target, {
    lazyConnect: true,
    connectTimeout: redisTimeouts.probeMs,
    commandTimeout: redisTimeouts.commandMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => (attempt > 3 ? null : 200 * attempt),
  });
  // A failed command rejects with its own error; the event would otherwise be an unhandled one.
  redis.on('error', () => undefined);
  await redis.connect();
  return {
    redis,
    async close() {
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}

/**
 * Why a command on an open session failed, when Redis refused it (a key of another
 * type under the prefix, an ACL, a busy or loading Redis) or stopped answering; one
 * terminal-safe clause. Undefined for any other error, which is a bug of ours.
 */
export function redisFailure(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  // ioredis rejects with redis-errors' ReplyError for every error reply, scripts' included.
  if (error.name === 'ReplyError') return `Redis refused a command (${cell(firstLine(error), 300)})`;
  if (error.name === 'MaxRetriesPerRequestError' || error.message === 'Connection is closed.' || error.message === 'Command timed out') {
    return `Redis stopped answering (${cell(error.message, 300)})`;
  }
  return undefined;
}
