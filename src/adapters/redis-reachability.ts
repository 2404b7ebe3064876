/**
 * Whether the Redis at REDIS_URL answers, asked once at start with a deadline.
 * The service's own connection retries forever (BullMQ needs that once it
 * runs); before it runs, an operator who forgot Redis wants one clear line and
 * an exit, not a retry loop or ioredis's "Connection is closed.".
 */
import { Redis } from 'ioredis';

/**
 * Connects, sends PING and disconnects. Resolves to undefined when Redis
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
    if (answer === 'PONG') return undefined;
    return answer === 'timeout' ? `no answer within ${timeoutMs / 1000} s` : `unexpected reply to PING`;
  } catch (error) {
    // ioredis rejects with "Connection is closed."; the 'error' event holds the cause (ECONNREFUSED, ENOTFOUND, WRONGPASS…).
    const reason = (lastError ?? (error instanceof Error ? error : new Error(String(error)))).message;
    return hidePassword(reason, url);
  } finally {
    clearTimeout(timer);
    probe.disconnect();
  }
}

function hidePassword(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text;
  }
  return password === '' ? text : text.split(password).join('***');
}
