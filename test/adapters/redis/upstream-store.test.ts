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
    const { rev, state } = await upstream.load('proj-1');
    expect(rev).toBe(0);
    expect(state.down).toBe(false);
    const down = { ...state, down: true, reason: 'r' };
    expect(await upstream.commit('proj-1', 0, down, entry('u1'))).toEqual({ committed: true, version: 1, outboxHead: 'u1' });
    expect(await upstream.commit('proj-1', 0, state, entry('u2'))).toEqual({ committed: false });
    expect(await upstream.load('proj-1')).toEqual({ rev: 1, state: down });
    expect(await outbox.size()).toBe(1);
  });

  it.each([
    ['unparsable state', { rev: '3', s: '{not json' }],
    ['a corrupt revision', { rev: 'NaN', s: '{}' }],
  ])('starts over from %s, and the next commit replaces it', async (_name, stored) => {
    const { upstream } = stores;
    await redis.hset(`${prefix}:state:upstream:proj-1`, stored);
    const loaded = await upstream.load('proj-1');
    expect(loaded.state).toEqual(INITIAL_UPSTREAM_STATE);
    expect((await upstream.commit('proj-1', loaded.rev, { ...loaded.state, failedCycles: 1 }, undefined)).committed).toBe(true);
    expect((await upstream.load('proj-1')).state.failedCycles).toBe(1);
  });

  it('reads a state stored without per-integration counts (the previous release) with none', async () => {
    const { integrations: _omitted, ...old } = INITIAL_UPSTREAM_STATE;
    await redis.hset(`${prefix}:state:upstream:proj-1`, { rev: '1', s: JSON.stringify({ ...old, failedCycles: 2 }) });
    expect((await stores.upstream.load('proj-1')).state).toEqual({ ...INITIAL_UPSTREAM_STATE, failedCycles: 2 });
  });

  it('keeps the per-integration entries when a replica of the previous release rewrites the state', async () => {
    const { upstream } = stores;
    const entries = { 'int-1': { failedCycles: 3, lastFailedCycle: 'c3', down: true, reason: 'invalid_body' } };
    expect((await upstream.commit('proj-1', 0, { ...INITIAL_UPSTREAM_STATE, lastSuccessCycle: 'c3', integrations: entries }, undefined)).committed).toBe(true);
    // What the previous release's script does: bump rev and write `s`, its state without the entries.
    const { integrations: _unknownToIt, ...old } = INITIAL_UPSTREAM_STATE;
    await redis.hset(`${prefix}:state:upstream:proj-1`, { rev: '2', s: JSON.stringify({ ...old, lastSuccessCycle: 'c4' }) });
    expect(await upstream.load('proj-1')).toEqual({ rev: 2, state: { ...INITIAL_UPSTREAM_STATE, lastSuccessCycle: 'c4', integrations: entries } });
  });

  it('reads entries stored inside the state (before they had a field of their own)', async () => {
    const entries = { 'int-1': { failedCycles: 1, lastFailedCycle: 'c1', down: false, reason: '' } };
    await redis.hset(`${prefix}:state:upstream:proj-1`, { rev: '1', s: JSON.stringify({ ...INITIAL_UPSTREAM_STATE, integrations: entries }) });
    expect((await stores.upstream.load('proj-1')).state.integrations).toEqual(entries);
  });

  describe('with several projects', () => {
    it('keeps one state per project, each with its own revision', async () => {
      const { upstream } = stores;
      const down = { ...INITIAL_UPSTREAM_STATE, down: true, reason: 'unauthorized' };
      expect((await upstream.commit('proj-2', 0, down, undefined)).committed).toBe(true);
      expect(await upstream.load('proj-1')).toEqual({ rev: 0, state: INITIAL_UPSTREAM_STATE });
      expect(await upstream.load('proj-2')).toEqual({ rev: 1, state: down });
      expect(await upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, undefined)).toMatchObject({ committed: true, version: 1 });
    });

    it('gives the state of the release that watched one project to the first watched project, until it commits its own', async () => {
      const legacy = createRedisStores({ redis, prefix, legacyProjectId: 'proj-1' }).upstream;
      const open = { ...INITIAL_UPSTREAM_STATE, down: true, reason: 'upstream degraded', failedCycles: 3 };
      const { integrations: _own, ...projectWide } = open;
      await redis.hset(`${prefix}:state:upstream`, { rev: '7', s: JSON.stringify(projectWide), i: '{}' });
      // Revision 0: the commit is checked against the project's own hash, which does not exist yet.
      expect(await legacy.load('proj-1')).toEqual({ rev: 0, state: open });
      expect(await legacy.load('proj-2')).toEqual({ rev: 0, state: INITIAL_UPSTREAM_STATE });
      expect((await legacy.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, undefined)).committed).toBe(true);
      expect(await legacy.load('proj-1')).toEqual({ rev: 1, state: INITIAL_UPSTREAM_STATE });
    });

    it('keeps a brace in a project name out of the hash tag of its key', async () => {
      await stores.upstream.commit('{x}', 0, INITIAL_UPSTREAM_STATE, undefined);
      expect(await redis.exists(`${prefix}:state:upstream:%7Bx%7D`)).toBe(1);
    });
  });
});
