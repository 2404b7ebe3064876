import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStores, type RedisStores } from '../../../src/adapters/redis/stores.js';
import { INITIAL_UPSTREAM_STATE } from '../../../src/core/upstream-policy.js';
import { connect, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { entry } from '../../helpers/store-builders.js';

let redis: Redis;
let prefix: string;
let stores: RedisStores;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
  stores = createRedisStores({ redis, prefix });
});

afterEach(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('createRedisUpstreamStore', () => {
  it('starts from the initial state and refuses a stale revision', async () => {
    const { upstream, outbox } = stores;
    const { rev, state } = await upstream.load();
    expect(rev).toBe(0);
    expect(state.down).toBe(false);
    const down = { ...state, down: true, reason: 'r' };
    expect(await upstream.commit(0, down, entry('u1'))).toEqual({ committed: true, version: 1, outboxHead: 'u1' });
    expect(await upstream.commit(0, state, entry('u2'))).toEqual({ committed: false });
    expect(await upstream.load()).toEqual({ rev: 1, state: down });
    expect(await outbox.size()).toBe(1);
  });

  it.each([
    ['unparsable state', { rev: '3', s: '{not json' }],
    ['a corrupt revision', { rev: 'NaN', s: '{}' }],
  ])('starts over from %s, and the next commit replaces it', async (_name, stored) => {
    const { upstream } = stores;
    await redis.hset(`${prefix}:state:upstream`, stored);
    const loaded = await upstream.load();
    expect(loaded.state).toEqual(INITIAL_UPSTREAM_STATE);
    expect((await upstream.commit(loaded.rev, { ...loaded.state, failedCycles: 1 }, undefined)).committed).toBe(true);
    expect((await upstream.load()).state.failedCycles).toBe(1);
  });

  it('reads a state stored without per-integration counts (the previous release) with none', async () => {
    const { integrations: _omitted, ...old } = INITIAL_UPSTREAM_STATE;
    await redis.hset(`${prefix}:state:upstream`, { rev: '1', s: JSON.stringify({ ...old, failedCycles: 2 }) });
    expect((await stores.upstream.load()).state).toEqual({ ...INITIAL_UPSTREAM_STATE, failedCycles: 2 });
  });

  it('keeps the per-integration entries when a replica of the previous release rewrites the state', async () => {
    const { upstream } = stores;
    const entries = { 'int-1': { failedCycles: 3, lastFailedCycle: 'c3', down: true, reason: 'invalid_body' } };
    expect((await upstream.commit(0, { ...INITIAL_UPSTREAM_STATE, lastSuccessCycle: 'c3', integrations: entries }, undefined)).committed).toBe(true);
    // What the previous release's script does: bump rev and write `s`, its state without the entries.
    const { integrations: _unknownToIt, ...old } = INITIAL_UPSTREAM_STATE;
    await redis.hset(`${prefix}:state:upstream`, { rev: '2', s: JSON.stringify({ ...old, lastSuccessCycle: 'c4' }) });
    expect(await upstream.load()).toEqual({ rev: 2, state: { ...INITIAL_UPSTREAM_STATE, lastSuccessCycle: 'c4', integrations: entries } });
  });

  it('reads entries stored inside the state (before they had a field of their own)', async () => {
    const entries = { 'int-1': { failedCycles: 1, lastFailedCycle: 'c1', down: false, reason: '' } };
    await redis.hset(`${prefix}:state:upstream`, { rev: '1', s: JSON.stringify({ ...INITIAL_UPSTREAM_STATE, integrations: entries }) });
    expect((await stores.upstream.load()).state.integrations).toEqual(entries);
  });
});
