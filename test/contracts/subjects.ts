/**
 * The implementations every store contract runs against: the Redis adapters
 * (real Redis, a unique prefix per test) and the in-memory fakes.
 */
import { createRedisStores } from '../../src/adapters/redis/stores.js';
import type { InitMarker, Outbox, SnapshotStore, UpstreamStore } from '../../src/ports.js';
import { createInMemoryStores } from '../fakes/in-memory-stores.js';
import { connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

/** Every store role on one shared state, and the means to empty and release it. */
export interface StoresSubject {
  readonly snapshots: SnapshotStore;
  /** The default route's outbox lane. */
  readonly outbox: Outbox;
  /** The outbox lane of a route. */
  lane(this: void, route: string): Outbox;
  readonly upstream: UpstreamStore;
  readonly initMarker: InitMarker;
  /** Loses every stored value, as a Redis restarted without persistence. */
  wipe(): Promise<void>;
  close(): Promise<void>;
}

export interface StoresOptions {
  readonly deadLetterMax?: number;
  readonly outboxMax?: number;
}

export type StoresFactory = (options?: StoresOptions) => Promise<StoresSubject>;

export const redisStores: StoresFactory = async (options = {}) => {
  const redis = connect();
  const prefix = uniquePrefix();
  const stores = createRedisStores({ redis, prefix, ...options });
  return {
    ...stores,
    wipe: () => deletePrefix(redis, prefix),
    async close() {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
};

export const inMemoryStores: StoresFactory = async (options = {}) => {
  const stores = createInMemoryStores(options);
  return {
    ...stores,
    wipe: async () => stores.wipe(),
    close: async () => undefined,
  };
};

/** The implementations, by name, for `describe.each`. */
export const STORE_IMPLEMENTATIONS: readonly (readonly [string, StoresFactory])[] = [
  ['Redis', redisStores],
  ['in memory', inMemoryStores],
];
