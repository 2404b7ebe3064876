/**
 * The init marker in Redis (`meta`, keys.ts): written once per data set, so a
 * Redis that lost its data (restarted without persistence) is told apart from
 * one that has it. One round trip per call.
 */
import type { RedisClient } from './redis-client.js';
import type { InitMarker } from '../../ports.js';
import { stateKeys } from './keys.js';

export interface RedisInitMarkerOptions {
  readonly redis: RedisClient;
  readonly prefix: string;
}

export function createRedisInitMarker({ redis, prefix }: RedisInitMarkerOptions): InitMarker {
  const { meta } = stateKeys(prefix);
  return {
    isInitialised: async () => (await redis.exists(meta)) === 1,
    async markInitialised(nowMs) {
      await redis.hsetnx(meta, 'created', String(nowMs));
    },
  };
}
