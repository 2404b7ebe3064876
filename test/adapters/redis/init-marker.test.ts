import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisInitMarker } from '../../../src/adapters/redis/init-marker.js';
import type { InitMarker } from '../../../src/ports.js';
import { connect, deletePrefix, uniquePrefix } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;
let marker: InitMarker;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
  marker = createRedisInitMarker({ redis, prefix });
});

afterEach(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('createRedisInitMarker', () => {
  it('is false until marked, and false again after the data is gone', async () => {
    expect(await marker.isInitialised()).toBe(false);
    await marker.markInitialised(1);
    expect(await marker.isInitialised()).toBe(true);
    await deletePrefix(redis, prefix);
    expect(await marker.isInitialised()).toBe(false);
  });
});
