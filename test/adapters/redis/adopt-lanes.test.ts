/**
 * adoptLanes on a real Redis: the lane of a route that left the configuration
 * is moved to the default lane, and so is whatever a replica still running the
 * old configuration (a rolling deploy) appends to it afterwards.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adoptLanes } from '../../../src/adapters/redis/outbox.js';
import { createRedisStores } from '../../../src/adapters/redis/stores.js';
import { INITIAL_UPSTREAM_STATE } from '../../../src/core/upstream-policy.js';
import { connect, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { entry } from '../../helpers/store-builders.js';

let redis: Redis;
let prefix: string;
beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
});
afterEach(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('adoptLanes', () => {
  it('moves what an old replica appends to a removed route after the first move, at the next adoption', async () => {
    const stores = createRedisStores({ redis, prefix });
    const toSales = (id: string) => ({ ...entry(id), destination: 'sales' });
    // Old configuration (route sales) registers its lane and commits to it.
    expect(await adoptLanes(redis, prefix, ['default', 'sales'])).toEqual([]);
    await stores.upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, [toSales('s1')]);
    // New configuration without sales: the lane moves to the default lane.
    expect(await adoptLanes(redis, prefix, ['default'])).toEqual([{ route: 'sales', moved: 1 }]);
    expect(await stores.outbox.headId()).toBe('s1');
    // The old replica, still running, appends to the lane again.
    await stores.upstream.commit('proj-1', 1, INITIAL_UPSTREAM_STATE, [toSales('s2')]);
    expect(await stores.lane('sales').size()).toBe(1);
    // The next adoption (the next cycle of a new replica) moves it too: nothing is stranded.
    expect(await adoptLanes(redis, prefix, ['default'])).toEqual([{ route: 'sales', moved: 1 }]);
    expect(await stores.lane('sales').size()).toBe(0);
    expect(await stores.outbox.size()).toBe(2);
    // Nothing left to move: nothing reported.
    expect(await adoptLanes(redis, prefix, ['default'])).toEqual([]);
  });
});
