import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStateStore, DEAD_LETTER_TRIM_PER_POP, DEFAULT_DEAD_LETTER_MAX, type OutboxEntry, type StateStore } from '../../src/adapters/state-store.js';
import { diffSnapshots } from '../../src/core/diff.js';
import { INITIAL_UPSTREAM_STATE } from '../../src/core/upstream-policy.js';
import { state } from '../helpers/builders.js';
import { connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;
let store: StateStore;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
  store = createRedisStateStore({ redis, prefix });
});

afterEach(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const snap = (...ids: string[]) => diffSnapshots(undefined, ids.map((id) => state(id))).next;

const entry = (id: string): OutboxEntry => ({
  id,
  enqueuedAt: 1,
  notification: { kind: 'upstream', projectId: 'p', state: 'down', reason: id, detectedAt: 't' },
});

describe('createRedisStateStore', () => {
  describe('commit and load', () => {
    it('stores a baseline and loads it back', async () => {
      expect(await store.load('int-1')).toBeUndefined();
      const result = await store.commit({ integrationId: 'int-1', expectedVersion: undefined, lineage: 'L1', projectId: 'p', snapshot: snap('a', 'b'), nowMs: 1000, outbox: [] });
      expect(result).toEqual({ committed: true, version: 1, outboxHead: undefined });
      const loaded = await store.load('int-1');
      expect(loaded).toEqual({ integrationId: 'int-1', version: 1, lineage: 'L1', projectId: 'p', lastSuccessMs: 1000, snapshot: snap('a', 'b') });
    });

    it('refuses a second baseline, and a commit against a stale version', async () => {
      const first = { integrationId: 'int-1', expectedVersion: undefined, lineage: 'L1', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: [entry('x')] };
      expect((await store.commit(first)).committed).toBe(true);
      expect((await store.commit({ ...first, outbox: [entry('y')] })).committed).toBe(false);
      expect((await store.commit({ ...first, expectedVersion: 1, outbox: [] })).committed).toBe(true);
      expect((await store.commit({ ...first, expectedVersion: 1, outbox: [entry('z')] })).committed).toBe(false);
      // Only the notifications of successful commits are in the outbox.
      expect((await store.outboxHead())?.id).toBe('x');
      expect(await store.outboxSize()).toBe(1);
    });

    it('commits the snapshot and its notifications in one step, in order', async () => {
      const result = await store.commit({ integrationId: 'int-1', expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: [entry('n1'), entry('n2')] });
      expect(result).toEqual({ committed: true, version: 1, outboxHead: 'n1' });
      expect(await store.popOutbox('n2', false)).toEqual({ popped: false, head: 'n1', recovered: false });
      expect(await store.popOutbox('n1', false)).toEqual({ popped: true, head: 'n2', recovered: false });
      expect(await store.popOutbox('n2', true)).toEqual({ popped: true, head: undefined, recovered: false });
      expect((await store.deadLetters()).map((e) => e.id)).toEqual(['n2']);
    });

    it('treats unreadable stored data as no snapshot but keeps its version', async () => {
      await store.commit({ integrationId: 'int-1', expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: [] });
      await redis.hset(`${prefix}:state:snap:int-1`, 'd', 'garbage');
      const loaded = await store.load('int-1');
      expect(loaded?.snapshot).toBeUndefined();
      expect(loaded?.version).toBe(1);
    });

    it.each(['NaN', 'abc', '', '-1', '1e3'])('reads a corrupt version %j as unreadable, and lets exactly one commit replace it with version 1', async (corrupt) => {
      const req = { integrationId: 'int-1', expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: [] };
      await store.commit(req);
      await redis.hset(`${prefix}:state:snap:int-1`, 'v', corrupt);
      const loaded = await store.load('int-1');
      expect(loaded?.snapshot).toBeUndefined();
      expect(loaded?.unreadable).toEqual({ reason: expect.stringContaining('is not a number'), storedVersion: corrupt });
      // Two replicas that both read the corrupt version: the first re-baselines, the second conflicts.
      expect(await store.commit({ ...req, lineage: 'L2', expectedVersion: corrupt })).toEqual({ committed: true, version: 1, outboxHead: undefined });
      expect(await store.commit({ ...req, lineage: 'L3', expectedVersion: corrupt })).toEqual({ committed: false });
      expect(await store.load('int-1')).toEqual({ integrationId: 'int-1', version: 1, lineage: 'L2', projectId: 'p', lastSuccessMs: 1, snapshot: snap('a') });
    });

    it('uses one round trip per load and per commit, whatever the number of installations', async () => {
      const big = snap(...Array.from({ length: 5000 }, (_, i) => `i${i}`));
      const monitor = connect();
      const commands: string[] = [];
      const m = await monitor.monitor();
      // Commands a Lua script runs show up with source "lua"; only client round trips count.
      m.on('monitor', (_time: string, args: string[], source: string) => {
        if (source !== 'lua' && args.some((a) => String(a).startsWith(prefix))) commands.push(String(args[0]).toLowerCase());
      });
      await store.commit({ integrationId: 'int-1', expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: big, nowMs: 1, outbox: [] });
      await store.load('int-1');
      await new Promise((r) => setTimeout(r, 100));
      monitor.disconnect();
      // One script call for the commit (EVAL or EVALSHA, as ioredis decides), one HMGET for the load.
      expect(commands).toHaveLength(2);
      expect(commands[0]).toMatch(/^eval(sha)?$/);
      expect(commands[1]).toBe('hmget');
    });
  });

  describe('dead letters', () => {
    it('keeps at most deadLetterMax, trimming the oldest first', async () => {
      const capped = createRedisStateStore({ redis, prefix, deadLetterMax: 3 });
      const ids = ['d1', 'd2', 'd3', 'd4', 'd5'];
      await capped.commit({ integrationId: 'int-1', expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: ids.map(entry) });
      for (const id of ids) await capped.popOutbox(id, true);
      expect((await capped.deadLetters()).map((e) => e.id)).toEqual(['d3', 'd4', 'd5']);
      expect(await redis.hlen(`${prefix}:state:dead:entries`)).toBe(3);
      expect((await capped.slackStatus()).deadLetters).toBe(3);
    });
  });

  describe('dead letters left untrimmed by an older release', () => {
    it('trims at most DEAD_LETTER_TRIM_PER_POP per pop, and converges to the cap with no orphaned entries', async () => {
      const ids = `${prefix}:state:dead:ids`;
      const entries = `${prefix}:state:dead:entries`;
      const old = Array.from({ length: 50_000 }, (_, i) => `old${i}`);
      for (let i = 0; i < old.length; i += 5000) {
        const chunk = old.slice(i, i + 5000);
        await redis.rpush(ids, ...chunk);
        await redis.hset(entries, Object.fromEntries(chunk.map((id) => [id, JSON.stringify(entry(id))])));
      }
      const fresh = Array.from({ length: 41 }, (_, i) => `n${i}`);
      await store.commit({ integrationId: 'int-1', expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: fresh.map(entry) });

      await store.popOutbox('n0', true);
      expect(await redis.llen(ids)).toBe(50_001 - DEAD_LETTER_TRIM_PER_POP);
      expect(await redis.hlen(entries)).toBe(50_001 - DEAD_LETTER_TRIM_PER_POP);
      expect(await redis.lindex(ids, 0)).toBe(`old${DEAD_LETTER_TRIM_PER_POP}`);

      // Delivered messages trim too, so the list converges with ordinary traffic.
      for (const id of fresh.slice(1)) await store.popOutbox(id, false, 2);
      expect(await redis.llen(ids)).toBe(DEFAULT_DEAD_LETTER_MAX);
      const kept = await redis.lrange(ids, 0, -1);
      expect(kept.at(-1)).toBe('n0');
      expect((await redis.hkeys(entries)).sort()).toEqual([...kept].sort());
      expect((await store.slackStatus()).deadLetters).toBe(DEFAULT_DEAD_LETTER_MAX);
    });
  });

  describe('the Slack webhook state', () => {
    it('is unknown at first, goes down once, and comes back up with the next delivery', async () => {
      expect(await store.slackStatus()).toEqual({ up: undefined, reason: undefined, downSinceMs: undefined, lastSuccessMs: undefined, deadLetters: 0 });
      expect(await store.markSlackDown('HTTP 404 no_service', 1000)).toBe(true);
      expect(await store.markSlackDown('HTTP 404 no_service', 2000)).toBe(false);
      expect(await store.slackStatus()).toMatchObject({ up: false, reason: 'HTTP 404 no_service', downSinceMs: 1000 });
      await store.commit({ integrationId: 'int-1', expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: [entry('n1'), entry('n2')] });
      expect(await store.popOutbox('n1', false, 3000)).toEqual({ popped: true, head: 'n2', recovered: true });
      expect(await store.popOutbox('n2', false, 4000)).toEqual({ popped: true, head: undefined, recovered: false });
      expect(await store.slackStatus()).toEqual({ up: true, reason: undefined, downSinceMs: undefined, lastSuccessMs: 4000, deadLetters: 0 });
    });
  });

  describe('the outbox head', () => {
    it('comes with the channel\'s last success and last fault, which every fault moves on, in one round trip', async () => {
      expect(await store.outboxHead()).toBeUndefined();
      await store.commit({ integrationId: 'int-1', expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: [entry('n1'), entry('n2')] });
      expect(await store.outboxHead()).toEqual({ id: 'n1', entry: entry('n1'), channel: { lastSuccessMs: undefined, lastFaultMs: undefined } });
      await store.markSlackDown('HTTP 404 no_service', 1000);
      await store.markSlackDown('HTTP 404 no_service', 2000);
      expect((await store.outboxHead())?.channel).toEqual({ lastSuccessMs: undefined, lastFaultMs: 2000 });
      await store.popOutbox('n1', false, 3000);
      const monitor = connect();
      const commands: string[] = [];
      const m = await monitor.monitor();
      m.on('monitor', (_time: string, args: string[], source: string) => {
        if (source !== 'lua' && args.some((a) => String(a).startsWith(prefix))) commands.push(String(args[0]).toLowerCase());
      });
      expect(await store.outboxHead()).toEqual({ id: 'n2', entry: entry('n2'), channel: { lastSuccessMs: 3000, lastFaultMs: 2000 } });
      await new Promise((r) => setTimeout(r, 100));
      monitor.disconnect();
      expect(commands).toHaveLength(1);
      expect(commands[0]).toMatch(/^eval(sha)?$/);
    });
  });

  describe('loadAll and retain', () => {
    it('returns every integration and drops the ones no longer listed nor polled since the cutoff', async () => {
      for (const id of ['int-1', 'int-2', 'int-3']) {
        await store.commit({ integrationId: id, expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 5, outbox: [] });
      }
      expect((await store.loadAll()).map((s) => s.integrationId).sort()).toEqual(['int-1', 'int-2', 'int-3']);
      // Polled at t=5: a cutoff before that keeps everything, one after it drops what is not listed.
      expect(await store.retain(['int-2'], 5)).toEqual([]);
      expect(await store.retain([], 5)).toEqual([]);
      expect((await store.retain(['int-2'], 6)).sort()).toEqual(['int-1', 'int-3']);
      expect((await store.loadAll()).map((s) => s.integrationId)).toEqual(['int-2']);
      expect(await store.load('int-1')).toBeUndefined();
    });

    it('keeps 250,000 listed ids in one call, and leaves no staging key behind', async () => {
      for (const id of ['int-1', 'int-2', 'int-3']) {
        await store.commit({ integrationId: id, expectedVersion: undefined, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 5, outbox: [] });
      }
      // A spread of this many arguments into one call throws RangeError.
      const listed = [...Array.from({ length: 250_000 }, (_, i) => `listed-${i}`), 'int-2'];
      expect((await store.retain(listed, 6)).sort()).toEqual(['int-1', 'int-3']);
      expect((await store.loadAll()).map((s) => s.integrationId)).toEqual(['int-2']);
      expect(await redis.keys(`${prefix}:state:retain:*`)).toEqual([]);
    }, 20_000);
  });

  describe('loadUpstream and commitUpstream', () => {
    it('start from the initial state and refuse a stale revision', async () => {
      const { rev, state } = await store.loadUpstream();
      expect(rev).toBe(0);
      expect(state.down).toBe(false);
      const down = { ...state, down: true, reason: 'r' };
      expect(await store.commitUpstream(0, down, entry('u1'))).toEqual({ committed: true, version: 1, outboxHead: 'u1' });
      expect(await store.commitUpstream(0, state, entry('u2'))).toEqual({ committed: false });
      expect(await store.loadUpstream()).toEqual({ rev: 1, state: down });
      expect(await store.outboxSize()).toBe(1);
    });

    it.each([
      ['unparsable state', { rev: '3', s: '{not json' }],
      ['a corrupt revision', { rev: 'NaN', s: '{}' }],
    ])('start over from %s, and the next commit replaces it', async (_name, stored) => {
      await redis.hset(`${prefix}:state:upstream`, stored);
      const loaded = await store.loadUpstream();
      expect(loaded.state).toEqual(INITIAL_UPSTREAM_STATE);
      expect((await store.commitUpstream(loaded.rev, { ...loaded.state, failedCycles: 1 }, undefined)).committed).toBe(true);
      expect((await store.loadUpstream()).state.failedCycles).toBe(1);
    });

    it('reads a state stored without per-integration counts (the previous release) with none', async () => {
      const { integrations: _omitted, ...old } = INITIAL_UPSTREAM_STATE;
      await redis.hset(`${prefix}:state:upstream`, { rev: '1', s: JSON.stringify({ ...old, failedCycles: 2 }) });
      expect((await store.loadUpstream()).state).toEqual({ ...INITIAL_UPSTREAM_STATE, failedCycles: 2 });
    });

    it('keeps the per-integration entries when a replica of the previous release rewrites the state', async () => {
      const entries = { 'int-1': { failedCycles: 3, lastFailedCycle: 'c3', down: true, reason: 'invalid_body' } };
      expect((await store.commitUpstream(0, { ...INITIAL_UPSTREAM_STATE, lastSuccessCycle: 'c3', integrations: entries }, undefined)).committed).toBe(true);
      // What the previous release's script does: bump rev and write `s`, its state without the entries.
      const { integrations: _unknownToIt, ...old } = INITIAL_UPSTREAM_STATE;
      await redis.hset(`${prefix}:state:upstream`, { rev: '2', s: JSON.stringify({ ...old, lastSuccessCycle: 'c4' }) });
      expect(await store.loadUpstream()).toEqual({ rev: 2, state: { ...INITIAL_UPSTREAM_STATE, lastSuccessCycle: 'c4', integrations: entries } });
    });

    it('reads entries stored inside the state (before they had a field of their own)', async () => {
      const entries = { 'int-1': { failedCycles: 1, lastFailedCycle: 'c1', down: false, reason: '' } };
      await redis.hset(`${prefix}:state:upstream`, { rev: '1', s: JSON.stringify({ ...INITIAL_UPSTREAM_STATE, integrations: entries }) });
      expect((await store.loadUpstream()).state.integrations).toEqual(entries);
    });
  });

  describe('isInitialised', () => {
    it('is false until marked, and false again after the data is gone', async () => {
      expect(await store.isInitialised()).toBe(false);
      await store.markInitialised(1);
      expect(await store.isInitialised()).toBe(true);
      await deletePrefix(redis, prefix);
      expect(await store.isInitialised()).toBe(false);
    });
  });
});
