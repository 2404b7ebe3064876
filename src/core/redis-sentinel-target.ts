/**
 * Where a Redis Sentinel deployment is, as the environment says it: the
 * sentinels (REDIS_SENTINELS) and the name of the master group they watch
 * (REDIS_SENTINEL_NAME). ioredis asks a sentinel for the master's address and
 * asks again after a failover. The data nodes' user, password, TLS and
 * database come from REDIS_URL, whose host is not used. Pure: config.ts reads
 * the variables, the Redis adapter connects.
 */
import { parseClusterNodes, type Parsed, type RedisNodeAddress } from './redis-cluster-target.js';

export interface RedisSentinelTarget {
  readonly sentinels: readonly RedisNodeAddress[];
  /** The master group name, as in `sentinel monitor <name> …`. */
  readonly name: string;
}

/** A master group name: what sentinel.conf accepts in practice (no space, no control character). */
const namePattern = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * REDIS_SENTINELS (a comma-separated list of host:port, as REDIS_CLUSTER_NODES)
 * and REDIS_SENTINEL_NAME. A problem starts with the variable's name; neither
 * value is a secret.
 */
export function parseSentinelTarget(rawSentinels: string, rawName: string | undefined): Parsed<RedisSentinelTarget> {
  const sentinels = parseClusterNodes(rawSentinels);
  if (!sentinels.ok) {
    return {
      ok: false,
      problem: `REDIS_SENTINELS ${sentinels.problem.replace('such as 10.0.0.1:6379,10.0.0.2:6379', 'such as 10.0.0.1:26379,10.0.0.2:26379')}`,
    };
  }
  if (rawName === undefined) {
    return { ok: false, problem: 'REDIS_SENTINEL_NAME is required with REDIS_SENTINELS: the master group name of `sentinel monitor <name> …`' };
  }
  if (!namePattern.test(rawName)) {
    return { ok: false, problem: `REDIS_SENTINEL_NAME must be a master group name (letters, digits, . _ : -); got ${JSON.stringify(rawName.slice(0, 100))}` };
  }
  return { ok: true, value: { sentinels: sentinels.value, name: rawName } };
}

/** The target as it may be shown: `Sentinel master "name" via host:port,…` (no credentials: they are REDIS_URL's; redisLocation knows this shape). */
export function describeSentinelTarget(target: RedisSentinelTarget): string {
  const hosts = target.sentinels.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',');
  return `Sentinel master "${target.name}" via ${hosts}`;
}
