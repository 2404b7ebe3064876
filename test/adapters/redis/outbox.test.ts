import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_TRIM_PER_POP, DEFAULT_DEAD_LETTER_MAX, REPLAY_PER_SCRIPT_CALL } from '../../../src/adapters/redis/outbox.js';
import { stateKeys } from '../../../src/adapters/redis/keys.js';
import { outboxAppendArgs, type OutboxAppend } from '../../../src/adapters/redis/outbox-append.js';
import { withStateScripts } from '../../../src/adapters/redis/scripts.js';
import { createRedisStores, type RedisStores } from '../../../src/adapters/redis/stores.js';
import { encodeOutboxEntry } from '../../../src/core/outbox-entry.js';
import { encodeSnapshot } from '../../../src/core/snapshot.js';
import { INITIAL_UPSTREAM_STATE } from '../../../src/core/upstream-policy.js';
import type { OutboxEntry } from '../../../src/ports.js';
import { connect, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { alertsEntry, entry, snap } from '../../helpers/store-builders.js';

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

/** A baseline of int-1 that appends `entries` to the outbox. */
const commitWith = (s: RedisStores, entries: OutboxEntry[]) =>
  s.snapshots.commit({
    integrationId: 'int-1',
    expectedVersion: undefined,
    version: 1,
    lineage: 'L',
    projectId: 'p',
    snapshot: snap('a'),
    nowMs: 1,
    outbox: entries,
  });

/** Entries exactly as the release before the format version wrote them (produced with its code). */
const V1_ENTRIES = [
  '{"id":"int-1.b3f1.2.1","enqueuedAt":1796040000000,"notification":{"kind":"transitions","projectId":"proj-1","integrationId":"int-1","detectedAt":"2026-11-30T12:00:00.000Z","items":[{"severity":"recovery","change":"changed","installationId":"a","groupRef":"org-a","groupName":"Customer a","provider":"salesforce","field":"health_status","from":"unhealthy","to":"healthy"}],"part":1,"parts":1}}',
  '{"id":"upstream.7f0c2b1e","enqueuedAt":1796040000000,"notification":{"kind":"upstream","projectId":"proj-1","state":"down","reason":"upstream degraded: 1 consecutive poll cycles failed, last error: invalid_body: installations of int-1: boom","detectedAt":"2026-11-30T12:00:00.000Z"}}',
];

/** An alerts digest of int-1 naming `installations`. */
const digest = (id: string, installations: string[]) => alertsEntry(id, 'int-1', installations);
/** A commit of int-1's version `version` (after version - 1) appending `outbox`. */
const commitOf = (version: number, outbox: OutboxEntry[]) => ({
  integrationId: 'int-1',
  expectedVersion: version === 1 ? undefined : version - 1,
  version,
  lineage: 'L',
  projectId: 'p',
  snapshot: snap('a'),
  nowMs: version,
  outbox,
});

/**
 * The commit script of int-1's version 2, called directly with outbox arguments an append read
 * earlier (outboxAppendArgs), so that a test can change the outbox in between.
 */
const commitVersion2 = (outbox: OutboxAppend) => {
  const keys = stateKeys(prefix);
  return withStateScripts(redis).ahmCommitSnapshot(
    10 + outbox.laneKeys.length,
    keys.snapshot('int-1'),
    keys.integrations,
    keys.outboxIds,
    keys.outboxEntries,
    keys.outboxMeta,
    keys.outboxLast,
    keys.outboxDrops,
    keys.alerts('int-1'),
    keys.episodes('int-1'),
    keys.episodeExpiry('int-1'),
    ...outbox.laneKeys,
    '=1',
    '2',
    'L',
    'p',
    '2',
    encodeSnapshot(snap('a')),
    'int-1',
    // The snapshot's digest (any: the data is sent), no alert states, no episode logs.
    'd',
    '',
    '0',
    ...outbox.args,
  );
};

/** Where commitSnapshot has its lane lists in KEYS. */
const slots = { defaultLane: 3, firstOther: 11 };

describe('createRedisOutbox', () => {
  describe('dead letters', () => {
    it('keeps at most deadLetterMax, trimming the oldest first', async () => {
      const capped = createRedisStores({ redis, prefix, deadLetterMax: 3 });
      const ids = ['d1', 'd2', 'd3', 'd4', 'd5'];
      await commitWith(capped, ids.map(entry));
      for (const id of ids) await capped.outbox.pop(id, true);
      expect((await capped.outbox.deadLetters()).map((e) => e.id)).toEqual(['d3', 'd4', 'd5']);
      expect(await redis.hlen(`${prefix}:state:dead:entries`)).toBe(3);
      expect((await capped.outbox.channelStatus()).deadLetters).toBe(3);
    });
  });

  describe('dead letters left untrimmed by an older release', () => {
    it('trims at most DEAD_LETTER_TRIM_PER_POP per pop, and converges to the cap with no orphaned entries', async () => {
      const { outbox } = stores;
      const ids = `${prefix}:state:dead:ids`;
      const entries = `${prefix}:state:dead:entries`;
      const old = Array.from({ length: 50_000 }, (_, i) => `old${i}`);
      for (let i = 0; i < old.length; i += 5000) {
        const chunk = old.slice(i, i + 5000);
        await redis.rpush(ids, ...chunk);
        await redis.hset(entries, Object.fromEntries(chunk.map((id) => [id, JSON.stringify(entry(id))])));
      }
      const fresh = Array.from({ length: 41 }, (_, i) => `n${i}`);
      await commitWith(stores, fresh.map(entry));

      await outbox.pop('n0', true);
      expect(await redis.llen(ids)).toBe(50_001 - DEAD_LETTER_TRIM_PER_POP);
      expect(await redis.hlen(entries)).toBe(50_001 - DEAD_LETTER_TRIM_PER_POP);
      expect(await redis.lindex(ids, 0)).toBe(`old${DEAD_LETTER_TRIM_PER_POP}`);

      // Delivered messages trim too, so the list converges with ordinary traffic.
      for (const id of fresh.slice(1)) await outbox.pop(id, false, 2);
      expect(await redis.llen(ids)).toBe(DEFAULT_DEAD_LETTER_MAX);
      const kept = await redis.lrange(ids, 0, -1);
      expect(kept.at(-1)).toBe('n0');
      expect((await redis.hkeys(entries)).sort()).toEqual([...kept].sort());
      expect((await outbox.channelStatus()).deadLetters).toBe(DEFAULT_DEAD_LETTER_MAX);
    });
  });

  describe('replaying dead letters', () => {
    const renamed = (id: string): string => `${id}.replay-r`;

    it('moves nothing when one of them is unreadable, and names it', async () => {
      const { outbox } = stores;
      await commitWith(stores, [entry('d1')]);
      await outbox.pop('d1', true);
      await redis.rpush(`${prefix}:state:dead:ids`, 'garbled', 'lost');
      await redis.hset(`${prefix}:state:dead:entries`, { garbled: '{"not":"an entry"', lost: '' });
      expect(await outbox.replayDeadLetters(['d1', 'garbled', 'lost'], 5, renamed)).toEqual({ replayed: [], missing: [], unreadable: ['garbled', 'lost'] });
      expect(await redis.lrange(`${prefix}:state:dead:ids`, 0, -1)).toEqual(['d1', 'garbled', 'lost']);
      expect(await outbox.size()).toBe(0);
    });

    it('moves a list longer than one script call takes, in order, a chunk per call', async () => {
      const { outbox } = stores;
      const ids = Array.from({ length: REPLAY_PER_SCRIPT_CALL * 2 + 5 }, (_, i) => `d${i}`);
      await commitWith(stores, ids.map(entry));
      for (const id of ids) await outbox.pop(id, true);
      const result = await outbox.replayDeadLetters(ids, 5, renamed);
      expect(result.replayed.map((r) => r.newId)).toEqual(ids.map(renamed));
      expect(await redis.lrange(`${prefix}:state:outbox:ids`, 0, -1)).toEqual(ids.map(renamed));
      expect(await redis.llen(`${prefix}:state:dead:ids`)).toBe(0);
      expect(await redis.hlen(`${prefix}:state:dead:entries`)).toBe(0);
    });

    it('has a script that checks every id before it moves any, so a dead letter trimmed meanwhile stops it whole', async () => {
      await commitWith(stores, [entry('d1')]);
      await stores.outbox.pop('d1', true);
      const keys = [`${prefix}:state:dead:ids`, `${prefix}:state:dead:entries`, `${prefix}:state:outbox:ids`, `${prefix}:state:outbox:entries`];
      const scripted = withStateScripts(redis);
      expect(await scripted.ahmReplayDeadLetters(...keys, 'd1', 'd1.r', 'x', 'trimmed', 't.r', 'y')).toEqual([0, 'trimmed']);
      expect(await redis.lrange(keys[0] ?? '', 0, -1)).toEqual(['d1']);
      expect(await redis.llen(keys[2] ?? '')).toBe(0);
      await redis.hset(keys[3] ?? '', 'taken', 'z');
      await expect(scripted.ahmReplayDeadLetters(...keys, 'd1', 'taken', 'x')).rejects.toThrow('outbox id taken is already taken');
      expect(await redis.lrange(keys[0] ?? '', 0, -1)).toEqual(['d1']);
    });
  });

  describe('the Slack webhook state', () => {
    it('is unknown at first, goes down once, and comes back up with the next delivery', async () => {
      const { outbox } = stores;
      expect(await outbox.channelStatus()).toEqual({ up: undefined, reason: undefined, downSinceMs: undefined, lastSuccessMs: undefined, deadLetters: 0 });
      expect(await outbox.markChannelDown('HTTP 404 no_service', 1000)).toBe(true);
      expect(await outbox.markChannelDown('HTTP 404 no_service', 2000)).toBe(false);
      expect(await outbox.channelStatus()).toMatchObject({ up: false, reason: 'HTTP 404 no_service', downSinceMs: 1000 });
      await commitWith(stores, [entry('n1'), entry('n2')]);
      expect(await outbox.pop('n1', false, 3000)).toEqual({ popped: true, head: 'n2', recovered: true });
      expect(await outbox.pop('n2', false, 4000)).toEqual({ popped: true, head: undefined, recovered: false });
      expect(await outbox.channelStatus()).toEqual({ up: true, reason: undefined, downSinceMs: undefined, lastSuccessMs: 4000, deadLetters: 0 });
    });
  });

  describe('the outbox head', () => {
    it("comes with the channel's last success and last fault, which every fault moves on, in one round trip", async () => {
      const { outbox } = stores;
      expect(await outbox.head()).toBeUndefined();
      await commitWith(stores, [entry('n1'), entry('n2')]);
      expect(await outbox.head()).toEqual({ id: 'n1', entry: entry('n1'), channel: { lastSuccessMs: undefined, lastFaultMs: undefined } });
      await outbox.markChannelDown('HTTP 404 no_service', 1000);
      await outbox.markChannelDown('HTTP 404 no_service', 2000);
      expect((await outbox.head())?.channel).toEqual({ lastSuccessMs: undefined, lastFaultMs: 2000 });
      await outbox.pop('n1', false, 3000);
      const monitor = connect();
      const commands: string[] = [];
      const m = await monitor.monitor();
      m.on('monitor', (_time: string, args: string[], source: string) => {
        if (source !== 'lua' && args.some((a) => String(a).startsWith(prefix))) commands.push(String(args[0]).toLowerCase());
      });
      expect(await outbox.head()).toEqual({ id: 'n2', entry: entry('n2'), channel: { lastSuccessMs: 3000, lastFaultMs: 2000 } });
      await new Promise((r) => setTimeout(r, 100));
      monitor.disconnect();
      expect(commands).toHaveLength(1);
      expect(commands[0]).toMatch(/^eval(sha)?$/);
    });

    it('has no entry when the stored one is unreadable, so the caller dead-letters it', async () => {
      const { outbox } = stores;
      await redis.rpush(`${prefix}:state:outbox:ids`, 'garbled', 'future');
      await redis.hset(`${prefix}:state:outbox:entries`, { garbled: '{"not":"an entry"', future: JSON.stringify({ ...entry('future'), v: 3 }) });
      expect((await outbox.head())?.entry).toBeUndefined();
      await outbox.pop('garbled', true);
      expect(await outbox.head()).toMatchObject({ id: 'future', entry: undefined });
    });
  });

  describe('the stored entry format', () => {
    it('writes entries as v2, with their destination', async () => {
      await commitWith(stores, [entry('n1')]);
      await stores.upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, { ...entry('u1'), destination: 'pager' });
      const stored = await redis.hgetall(`${prefix}:state:outbox:entries`);
      expect(JSON.parse(stored['n1'] ?? '')).toEqual({ v: 2, ...entry('n1') });
      expect(JSON.parse(stored['u1'] ?? '')).toEqual({ v: 2, ...entry('u1'), destination: 'pager' });
      expect((stored['n1'] ?? '').startsWith('{"v":2,"destination":"slack",')).toBe(true);
    });

    it('reads v1 entries left by the previous release, in the outbox and in the dead letters, as v2 for Slack', async () => {
      const { outbox } = stores;
      const [transitions = '', upstream = ''] = V1_ENTRIES;
      await redis.rpush(`${prefix}:state:outbox:ids`, 'int-1.b3f1.2.1', 'upstream.7f0c2b1e');
      await redis.hset(`${prefix}:state:outbox:entries`, { 'int-1.b3f1.2.1': transitions, 'upstream.7f0c2b1e': upstream });
      const head = await outbox.head();
      expect(head?.entry).toEqual({ ...(JSON.parse(transitions) as object), destination: 'slack' });
      await outbox.pop('int-1.b3f1.2.1', true);
      expect(await outbox.deadLetters()).toEqual([{ ...(JSON.parse(transitions) as object), destination: 'slack' }]);
      expect((await outbox.head())?.entry).toEqual({ ...(JSON.parse(upstream) as object), destination: 'slack' });
    });
  });

  describe('the order of entries the release before wrote (no meta)', () => {
    it('reads them as low priority for Slack: a high entry goes before the ones behind the head, and the cap may drop them', async () => {
      const capped = createRedisStores({ redis, prefix, outboxMax: 10 });
      const ids = Array.from({ length: 10 }, (_, i) => `old${i}`);
      await redis.rpush(`${prefix}:state:outbox:ids`, ...ids);
      await redis.hset(`${prefix}:state:outbox:entries`, Object.fromEntries(ids.map((id) => [id, encodeOutboxEntry(entry(id))])));
      await capped.upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, entry('up1'));
      expect(await redis.lrange(`${prefix}:state:outbox:ids`, 0, 3)).toEqual(['old0', 'up1', expect.stringMatching(/^dropped\./), 'old3']);
      expect(await capped.outbox.droppedTotal()).toBe(2);
      expect((await capped.outbox.deadLetters()).length).toBe(0);
    });
  });

  describe('a merge read before the commit', () => {
    it('appends the entry as it is when the waiting one became the head in between', async () => {
      await stores.snapshots.commit({ ...commitOf(1, [entry('first')]), integrationId: 'int-0' });
      await stores.snapshots.commit(commitOf(1, [digest('a1', ['x'])]));
      const scripts = withStateScripts(redis);
      const keys = stateKeys(prefix);
      const args = await outboxAppendArgs(scripts, keys, [digest('a2', ['y'])], 2, undefined, true, slots);
      expect(args.args[6]).toBe('a1');
      // Delivery takes the head meanwhile: a1 is the head now, and may be being sent.
      await stores.outbox.pop('first', false, 3);
      const result = await commitVersion2(args);
      expect(result[0]).toBe(1);
      const head = await stores.outbox.head();
      expect(head?.entry).toEqual(digest('a1', ['x']));
      await stores.outbox.pop('a1', false, 4);
      expect((await stores.outbox.head())?.entry).toEqual(digest('a2', ['y']));
    });

    it('appends the entry as it is when the waiting one changed in between', async () => {
      await stores.snapshots.commit({ ...commitOf(1, [entry('first')]), integrationId: 'int-0' });
      await stores.snapshots.commit(commitOf(1, [digest('a1', ['x'])]));
      const keys = stateKeys(prefix);
      const args = await outboxAppendArgs(withStateScripts(redis), keys, [digest('a2', ['y'])], 2, undefined, true, slots);
      await redis.hset(keys.outboxEntries, 'a1', encodeOutboxEntry(digest('a1', ['x', 'w'])));
      await commitVersion2(args);
      expect(await redis.lrange(keys.outboxIds, 0, -1)).toEqual(['first', 'a1', 'a2']);
    });
  });
});

describe('SLACK_OUTBOX_COALESCE=false', () => {
  /** head, then two digests of int-1 committed while it waits; the outbox ids after. */
  const threeCommits = async (s: RedisStores, at: string): Promise<string[]> => {
    await s.snapshots.commit({ ...commitOf(1, [entry('first')]), integrationId: 'int-0' });
    await s.snapshots.commit(commitOf(1, [digest('a1', ['x'])]));
    await s.snapshots.commit(commitOf(2, [digest('a2', ['y'])]));
    return redis.lrange(stateKeys(at).outboxIds, 0, -1);
  };

  it('appends every digest as it is: two waiting digests of one integration stay two messages', async () => {
    expect(await threeCommits(createRedisStores({ redis, prefix, coalesce: false }), prefix)).toEqual(['first', 'a1', 'a2']);
    // The same commits with coalescing (the default) merge a2 into a1.
    const other = `${prefix}-m`;
    try {
      expect(await threeCommits(createRedisStores({ redis, prefix: other }), other)).toEqual(['first', 'a1']);
    } finally {
      await deletePrefix(redis, other);
    }
  });
});
