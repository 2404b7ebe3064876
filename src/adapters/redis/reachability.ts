/**
 * Whether the Redis at REDIS_URL answers, asked once at start with a deadline.
 * The service's own connection retries forever (BullMQ needs that once it
 * runs); before it runs, an operator who forgot Redis wants one clear line and
 * an exit, not a retry loop or ioredis's "Connection is closed.".
 */
import { Redis } from 'ioredis';
import { redactRedisUrl } from '../../core/errors/redis-unreachable-error.js';
import { toError } from '../../core/errors/to-error.js';

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
 */
export async function probeRedis(url: string, timeoutMs: number): Promise<string | undefined> {
  let lastError: Error | undefined;
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', (error: Error) => (lastError = error));
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      probe.connect().then(() => probe.ping()),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
    ]);
    if (answer !== 'PONG') return answer === 'timeout' ? `no answer within ${timeoutMs / 1000} s` : `unexpected reply to PING`;
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

function hidePassword(text: string, url: string): string {
  let password: string;
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text;
  }
  return password === '' ? text : text.split(password).join('***');
}
