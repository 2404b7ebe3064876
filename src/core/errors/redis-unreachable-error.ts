/**
 * Redis did not answer when the service started. Its message is the one line
 * an operator needs (REDIS_URL with the password hidden, the cause, how to
 * start a Redis), so the fatal handler prints it as it is.
 */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';

  /**
   * `reason` must not contain the password (probeRedis's reasons do not). `url` is REDIS_URL, or a
   * cluster as describeClusterTarget shows it (password already hidden), or describeSentinelTarget's text.
   */
  constructor(url: string, reason: string) {
    super(`${redisLocation(url)} (${reason}). ` + 'Start one (`redis-server`, or `docker run -d -p 6379:6379 redis:7`) or set REDIS_URL to yours.');
  }
}

/**
 * "… is not reachable at" where the service looked, as one may show it: REDIS_URL with the password
 * hidden, or a cluster as describeClusterTarget shows it (password already hidden).
 */
export function redisLocation(url: string): string {
  if (/^rediss?\+cluster:/i.test(url)) return `Redis Cluster is not reachable at ${url}`;
  if (url.startsWith('Sentinel master ')) return `Redis is not reachable through ${url}`;
  return `Redis is not reachable at REDIS_URL=${redactRedisUrl(url)}`;
}

/** REDIS_URL as it may be shown: the password, if any, replaced by `***`. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.href;
  } catch {
    return '(unparsable URL)';
  }
}
