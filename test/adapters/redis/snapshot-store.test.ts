import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisSnapshotStore } from '../../../src/adapters/redis/snapshot-store.js';
import { createRedisStores, type RedisStores } from '../../../src/adapters/redis/stores.js';
import { encodeSnapshot, type Snapshot } from '../../../src/core/snapshot.js';
import { createPrivateRedis } from '../../helpers/private-redis.js';
import { connect, deletePrefix, uniquePrefix } from '../../helpers/redis.js';
import { entry, snap } from '../../helpers/store-builders.js';

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

describe('createRedisSnapshotStore', () => {
  describe('commit and load', () => {
    it('stores a baseline and loads it back', async () => {
      const { snapshots } = stores;
      expect(await snapshots.load('int-1')).toBeUndefined();
      const result = await snapshots.commit({
        integrationId: 'int-1',
        expectedVersion: undefined,
        version: 1,
        lineage: 'L1',
        projectId: 'p',
        snapshot: snap('a', 'b'),
        nowMs: 1000,
        outbox: [],
      });
      expect(result).toEqual({ committed: true, version: 1, outboxHead: undefined });
      const loaded = await snapshots.load('int-1');
      expect(loaded).toEqual({ integrationId: 'int-1', version: 1, lineage: 'L1', projectId: 'p', lastSuccessMs: 1000, snapshot: snap('a', 'b') });
    });

    it('refuses a second baseline, and a commit against a stale version', async () => {
      const { snapshots, outbox } = stores;
      const first = {
        integrationId: 'int-1',
        expectedVersion: undefined,
        version: 1,
        lineage: 'L1',
        projectId: 'p',
        snapshot: snap('a'),
        nowMs: 1,
        outbox: [entry('x')],
      };
      expect((await snapshots.commit(first)).committed).toBe(true);
      expect((await snapshots.commit({ ...first, outbox: [entry('y')] })).committed).toBe(false);
      expect((await snapshots.commit({ ...first, expectedVersion: 1, version: 2, outbox: [] })).committed).toBe(true);
      expect((await snapshots.commit({ ...first, expectedVersion: 1, version: 2, outbox: [entry('z')] })).committed).toBe(false);
      // Only the notifications of successful commits are in the outbox.
      expect((await outbox.head())?.id).toBe('x');
      expect(await outbox.size()).toBe(1);
    });

    it('writes the version the caller gives, and does not compute one', async () => {
      const { snapshots } = stores;
      const base = { integrationId: 'int-1', lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: [] };
      expect(await snapshots.commit({ ...base, expectedVersion: undefined, version: 7 })).toEqual({ committed: true, version: 7, outboxHead: undefined });
      expect((await snapshots.load('int-1'))?.version).toBe(7);
      expect(await snapshots.commit({ ...base, expectedVersion: 7, version: 42 })).toEqual({ committed: true, version: 42, outboxHead: undefined });
      expect(await redis.hget(`${prefix}:state:snap:int-1`, 'v')).toBe('42');
    });

    it.each([0, -1, 1.5, Number.NaN])('refuses to write the version %s, which would read back as corrupt', async (version) => {
      await expect(
        stores.snapshots.commit({
          integrationId: 'int-1',
          expectedVersion: undefined,
          version,
          lineage: 'L',
          projectId: 'p',
          snapshot: snap('a'),
          nowMs: 1,
          outbox: [],
        }),
      ).rejects.toThrow('version must be a positive integer');
      expect(await stores.snapshots.load('int-1')).toBeUndefined();
    });

    it('commits the snapshot and its notifications in one step, in order', async () => {
      const { snapshots, outbox } = stores;
      const result = await snapshots.commit({
        integrationId: 'int-1',
        expectedVersion: undefined,
        version: 1,
        lineage: 'L',
        projectId: 'p',
        snapshot: snap('a'),
        nowMs: 1,
        outbox: [entry('n1'), entry('n2')],
      });
      expect(result).toEqual({ committed: true, version: 1, outboxHead: 'n1' });
      expect(await outbox.pop('n2', false)).toEqual({ popped: false, head: 'n1', recovered: false });
      expect(await outbox.pop('n1', false)).toEqual({ popped: true, head: 'n2', recovered: false });
      expect(await outbox.pop('n2', true)).toEqual({ popped: true, head: undefined, recovered: false });
      expect((await outbox.deadLetters()).map((e) => e.id)).toEqual(['n2']);
    });

    it('treats unreadable stored data as no snapshot but keeps its version', async () => {
      const { snapshots } = stores;
      await snapshots.commit({
        integrationId: 'int-1',
        expectedVersion: undefined,
        version: 1,
        lineage: 'L',
        projectId: 'p',
        snapshot: snap('a'),
        nowMs: 1,
        outbox: [],
      });
      await redis.hset(`${prefix}:state:snap:int-1`, 'd', 'garbage');
      const loaded = await snapshots.load('int-1');
      expect(loaded?.snapshot).toBeUndefined();
      expect(loaded?.version).toBe(1);
    });

    it.each(['NaN', 'abc', '', '-1', '1e3'])(
      'reads a corrupt version %j as unreadable, and lets exactly one commit replace it with version 1',
      async (corrupt) => {
        const { snapshots } = stores;
        const req = { integrationId: 'int-1', expectedVersion: undefined, version: 1, lineage: 'L', projectId: 'p', snapshot: snap('a'), nowMs: 1, outbox: [] };
        await snapshots.commit(req);
        await redis.hset(`${prefix}:state:snap:int-1`, 'v', corrupt);
        const loaded = await snapshots.load('int-1');
        expect(loaded?.snapshot).toBeUndefined();
        expect(loaded?.unreadable).toEqual({ reason: expect.stringContaining('is not a number'), storedVersion: corrupt });
        // Two replicas that both read the corrupt version: the first re-baselines, the second conflicts.
        // The version they write is the caller's: the loaded one (0 when unreadable) + 1.
        const version = (loaded?.version ?? 0) + 1;
        expect(await snapshots.commit({ ...req, lineage: 'L2', expectedVersion: corrupt, version })).toEqual({
          committed: true,
          version: 1,
          outboxHead: undefined,
        });
        expect(await snapshots.commit({ ...req, lineage: 'L3', expectedVersion: corrupt, version })).toEqual({ committed: false });
        expect(await snapshots.load('int-1')).toEqual({
          integrationId: 'int-1',
          version: 1,
          lineage: 'L2',
          projectId: 'p',
          lastSuccessMs: 1,
          snapshot: snap('a'),
        });
      },
    );

    it('uses one round trip per load and per commit, whatever the number of installations', async () => {
      const { snapshots } = stores;
      const big = snap(...Array.from({ length: 5000 }, (_, i) => `i${i}`));
      const monitor = connect();
      const commands: string[] = [];
      const m = await monitor.monitor();
      // Commands a Lua script runs show up with source "lua"; only client round trips count.
      m.on('monitor', (_time: string, args: string[], source: string) => {
        if (source !== 'lua' && args.some((a) => String(a).startsWith(prefix))) commands.push(String(args[0]).toLowerCase());
      });
      await snapshots.commit({
        integrationId: 'int-1',
        expectedVersion: undefined,
        version: 1,
        lineage: 'L',
        projectId: 'p',
        snapshot: big,
        nowMs: 1,
        outbox: [],
      });
      await snapshots.load('int-1');
      await new Promise((r) => setTimeout(r, 100));
      monitor.disconnect();
      // One script call for the commit and one for the load (EVAL or EVALSHA, as ioredis decides):
      // the load reads the snapshot and its alert states together.
      expect(commands).toHaveLength(2);
      expect(commands[0]).toMatch(/^eval(sha)?$/);
      expect(commands[1]).toMatch(/^eval(sha)?$/);
    });
  });

  describe('a commit of the snapshot it loaded, unchanged', () => {
    const key = (): string => `${prefix}:state:snap:int-1`;
    const request = (version: number, snapshot: Snapshot) => ({
      integrationId: 'int-1',
      expectedVersion: version === 1 ? undefined : version - 1,
      version,
      lineage: 'L',
      projectId: 'p',
      snapshot,
      nowMs: version * 1000,
      outbox: [],
    });
    /** The stored data re-encoded with other bytes that decode to the same snapshot: rewritten data loses them. */
    const marked = async (): Promise<string> => {
      const text = JSON.stringify(JSON.parse((await redis.hget(key(), 'd')) ?? ''), null, 1);
      await redis.hset(key(), 'd', text);
      return text;
    };

    it('does not rewrite the stored data, moves the version and last success on, and a changed one is written', async () => {
      const { snapshots } = stores;
      await snapshots.commit(request(1, snap('a', 'b')));
      const data = await marked();
      expect((await snapshots.load('int-1'))?.snapshot).toEqual(snap('a', 'b'));
      expect(await snapshots.commit(request(2, snap('a', 'b')))).toEqual({ committed: true, version: 2, outboxHead: undefined });
      expect(await redis.hmget(key(), 'v', 't', 'd')).toEqual(['2', '2000', data]);
      await snapshots.load('int-1');
      await snapshots.commit(request(3, snap('a', 'c')));
      expect(await redis.hget(key(), 'd')).toBe(encodeSnapshot(snap('a', 'c')));
    });

    it('writes the data when the snapshot was not loaded first, or was written without a digest (by the release before)', async () => {
      const { snapshots } = stores;
      await snapshots.commit(request(1, snap('a')));
      await marked();
      await snapshots.commit(request(2, snap('a')));
      expect(await redis.hget(key(), 'd')).toBe(encodeSnapshot(snap('a')));
      // The release before writes v and d, and leaves the h of version 2 as it was.
      await redis.hset(key(), 'v', '3');
      await marked();
      await snapshots.load('int-1');
      await snapshots.commit(request(4, snap('a')));
      expect(await redis.hmget(key(), 'v', 'd')).toEqual(['4', encodeSnapshot(snap('a'))]);
      expect(await redis.hget(key(), 'h')).toMatch(/^4:/);
    });

    it('sends the data after all when the stored digest is no longer the one it loaded', async () => {
      const { snapshots } = stores;
      await snapshots.commit(request(1, snap('a')));
      await marked();
      await snapshots.load('int-1');
      await redis.hset(key(), 'h', '1:another');
      expect(await snapshots.commit(request(2, snap('a')))).toEqual({ committed: true, version: 2, outboxHead: undefined });
      expect(await redis.hget(key(), 'd')).toBe(encodeSnapshot(snap('a')));
    });

    it('sends Redis a few hundred bytes for 5,000 unchanged installations, and the whole snapshot when one changed', async () => {
      // A Redis of its own: the byte count of the shared one includes every other test's traffic.
      const server = await createPrivateRedis();
      await server.start();
      const own = new Redis(server.url, { maxRetriesPerRequest: 1 });
      const counter = new Redis(server.url, { maxRetriesPerRequest: 1 });
      try {
        const { snapshots } = createRedisStores({ redis: own, prefix: 'bytes' });
        const sent = async (step: () => Promise<unknown>): Promise<number> => {
          const read = async (): Promise<number> => Number(/total_net_input_bytes:(\d+)/.exec(await counter.info('stats'))?.[1]);
          const before = await read();
          await step();
          return (await read()) - before;
        };
        const infoOnly = await sent(() => Promise.resolve());
        const ids = Array.from({ length: 5000 }, (_, i) => `installation-${i}`);
        await snapshots.commit(request(1, snap(...ids)));
        await snapshots.load('int-1');
        const unchanged = (await sent(() => snapshots.commit(request(2, snap(...ids))))) - infoOnly;
        await snapshots.load('int-1');
        const changed = (await sent(() => snapshots.commit(request(3, snap(...ids.slice(1)))))) - infoOnly;
        expect(unchanged).toBeLessThan(1000);
        expect(changed).toBeGreaterThan(encodeSnapshot(snap(...ids.slice(1))).length);
      } finally {
        own.disconnect();
        counter.disconnect();
        await server.stop();
      }
    });
  });

  describe('the decoded snapshot kept in memory', () => {
    const request = (integrationId: string, version: number, snapshot: Snapshot) => ({
      integrationId,
      expectedVersion: version === 1 ? undefined : version - 1,
      version,
      lineage: 'L',
      projectId: 'p',
      snapshot,
      nowMs: version * 1000,
      outbox: [],
    });
    const ids = (n: number, tag = ''): string[] => Array.from({ length: n }, (_, i) => `installation-${tag}${i}`);

    /** Two replicas on a Redis of their own, and the bytes Redis sends back to each step (its own INFO left out). */
    async function withPrivateRedis(
      run: (tools: { replica: (cacheInstallations?: number) => RedisStores; read: (step: () => Promise<unknown>) => Promise<number> }) => Promise<void>,
    ) {
      const server = await createPrivateRedis();
      await server.start();
      const connections: Redis[] = [];
      const counter = new Redis(server.url, { maxRetriesPerRequest: 1 });
      try {
        const outputBytes = async (): Promise<number> => Number(/total_net_output_bytes:(\d+)/.exec(await counter.info('stats'))?.[1]);
        const measure = async (step: () => Promise<unknown>): Promise<number> => {
          const before = await outputBytes();
          await step();
          return (await outputBytes()) - before;
        };
        const infoOnly = await measure(() => Promise.resolve());
        await run({
          replica: (cacheInstallations) => {
            const own = new Redis(server.url, { maxRetriesPerRequest: 1 });
            connections.push(own);
            return {
              ...createRedisStores({ redis: own, prefix: 'cache' }),
              snapshots: createRedisSnapshotStore({ redis: own, prefix: 'cache', ...(cacheInstallations === undefined ? {} : { cacheInstallations }) }),
            };
          },
          read: async (step) => (await measure(step)) - infoOnly,
        });
      } finally {
        for (const c of connections) c.disconnect();
        counter.disconnect();
        await server.stop();
      }
    }

    it('lets an unchanged poll read a few hundred bytes instead of the snapshot, and still sees a change made by another replica', async () => {
      await withPrivateRedis(async ({ replica, read }) => {
        const a = replica().snapshots;
        const b = replica().snapshots;
        const five = snap(...ids(5000));
        const size = encodeSnapshot(five).length;
        await a.commit(request('int-1', 1, five));
        // Replica a committed it: it holds it decoded, and Redis sends no data.
        let loaded: Awaited<ReturnType<typeof a.load>>;
        expect(await read(async () => (loaded = await a.load('int-1')))).toBeLessThan(1000);
        expect(loaded?.snapshot).toEqual(five);
        // Replica b never saw it: it reads the whole snapshot.
        expect(await read(() => b.load('int-1'))).toBeGreaterThan(size);
        const changed = snap(...ids(4999));
        expect((await b.commit(request('int-1', 2, changed))).committed).toBe(true);
        // a's copy is stale now: its digest is no longer the stored one, so the data comes.
        expect(await read(async () => (loaded = await a.load('int-1')))).toBeGreaterThan(encodeSnapshot(changed).length);
        expect(loaded).toMatchObject({ version: 2, snapshot: changed });
        // b commits it again unchanged: a's new copy is still current at the new version.
        await b.load('int-1');
        expect((await b.commit(request('int-1', 3, changed))).committed).toBe(true);
        expect(await read(async () => (loaded = await a.load('int-1')))).toBeLessThan(1000);
        expect(loaded).toMatchObject({ version: 3, snapshot: changed });
      });
    });

    it('commits a snapshot equal to the one held, in another order, without sending or rewriting the data', async () => {
      await withPrivateRedis(async ({ replica }) => {
        const { snapshots } = replica();
        await snapshots.commit(request('int-1', 1, snap('a', 'b', 'c')));
        await snapshots.load('int-1');
        await snapshots.commit(request('int-1', 2, snap('c', 'b', 'a')));
        const loaded = await replica().snapshots.load('int-1');
        expect(loaded).toMatchObject({ version: 2, snapshot: snap('a', 'b', 'c') });
      });
    });

    it('holds at most its bound of installations, dropping the least recently used integration first', async () => {
      await withPrivateRedis(async ({ replica, read }) => {
        const { snapshots } = replica(10_000);
        const sizes = new Map<string, number>();
        for (const id of ['int-1', 'int-2', 'int-3']) {
          const s = snap(...ids(4000, id));
          sizes.set(id, encodeSnapshot(s).length);
          await snapshots.commit(request(id, 1, s));
        }
        // 12,000 committed, 10,000 kept: int-1, the oldest, went; int-2 and int-3 stay.
        expect(await read(() => snapshots.load('int-3'))).toBeLessThan(1000);
        expect(await read(() => snapshots.load('int-2'))).toBeLessThan(1000);
        expect(await read(() => snapshots.load('int-1'))).toBeGreaterThan(sizes.get('int-1') ?? 0);
        // Loading int-1 kept it again, and pushed out int-3, now the least recently used.
        expect(await read(() => snapshots.load('int-3'))).toBeGreaterThan(sizes.get('int-3') ?? 0);
      });
    });

    it('does not keep a snapshot larger than the whole bound', async () => {
      await withPrivateRedis(async ({ replica, read }) => {
        const { snapshots } = replica(100);
        const big = snap(...ids(1000));
        await snapshots.commit(request('int-1', 1, big));
        expect(await read(() => snapshots.load('int-1'))).toBeGreaterThan(encodeSnapshot(big).length);
      });
    });

    it('reads stored data edited behind the digest (same h, other bytes) instead of trusting its copy', async () => {
      const { snapshots } = stores;
      await snapshots.commit(request('int-1', 1, snap('a')));
      await redis.hset(`${prefix}:state:snap:int-1`, 'd', 'garbage');
      expect((await snapshots.load('int-1'))?.snapshot).toBeUndefined();
    });
  });

  describe('loadAll and retain', () => {
    const commitAll = async (ids: string[], nowMs: number): Promise<void> => {
      for (const id of ids) {
        await stores.snapshots.commit({
          integrationId: id,
          expectedVersion: undefined,
          version: 1,
          lineage: 'L',
          projectId: 'p',
          snapshot: snap('a'),
          nowMs,
          outbox: [],
        });
      }
    };

    it('returns every integration and drops the ones no longer listed nor polled since the cutoff', async () => {
      const { snapshots } = stores;
      await commitAll(['int-1', 'int-2', 'int-3'], 5);
      expect((await snapshots.loadAll()).map((s) => s.integrationId).sort()).toEqual(['int-1', 'int-2', 'int-3']);
      // Polled at t=5: a cutoff before that keeps everything, one after it drops what is not listed.
      expect(await snapshots.retain(['int-2'], 5)).toEqual([]);
      expect(await snapshots.retain([], 5)).toEqual([]);
      expect((await snapshots.retain(['int-2'], 6)).sort()).toEqual(['int-1', 'int-3']);
      expect((await snapshots.loadAll()).map((s) => s.integrationId)).toEqual(['int-2']);
      expect(await snapshots.load('int-1')).toBeUndefined();
    });

    it('keeps 250,000 listed ids in one call, and leaves no staging key behind', async () => {
      const { snapshots } = stores;
      await commitAll(['int-1', 'int-2', 'int-3'], 5);
      // A spread of this many arguments into one call throws RangeError.
      const listed = [...Array.from({ length: 250_000 }, (_, i) => `listed-${i}`), 'int-2'];
      expect((await snapshots.retain(listed, 6)).sort()).toEqual(['int-1', 'int-3']);
      expect((await snapshots.loadAll()).map((s) => s.integrationId)).toEqual(['int-2']);
      expect(await redis.keys(`${prefix}:state:retain:*`)).toEqual([]);
    }, 20_000);

    it('loads and drops more integrations than one script call takes, with their data', async () => {
      const { snapshots } = stores;
      // More than KEYS_PER_SCRIPT_CALL, so both operations span several chunks.
      const ids = Array.from({ length: 2_345 }, (_, i) => `int-${i}`);
      const pipeline = redis.pipeline();
      for (const id of ids)
        pipeline.hset(`${prefix}:state:snap:${id}`, { v: '3', l: `L-${id}`, p: 'p', t: '5', d: '{}' }).sadd(`${prefix}:state:integrations`, id);
      await pipeline.exec();
      const all = await snapshots.loadAll();
      expect(all).toHaveLength(ids.length);
      expect(all.find((s) => s.integrationId === 'int-2000')).toEqual({
        integrationId: 'int-2000',
        version: 3,
        lineage: 'L-int-2000',
        projectId: 'p',
        lastSuccessMs: 5,
        snapshot: new Map(),
      });
      const keep = ids.filter((_, i) => i % 2 === 0);
      const dropped = await snapshots.retain(keep, 6);
      expect(dropped.sort()).toEqual(ids.filter((_, i) => i % 2 === 1).sort());
      expect((await snapshots.loadAll()).map((s) => s.integrationId).sort()).toEqual([...keep].sort());
      expect(await redis.exists(`${prefix}:state:snap:int-1`)).toBe(0);
    }, 20_000);

    it('skips a member whose snapshot is gone in loadAll, and forgets it in retain', async () => {
      const { snapshots } = stores;
      await commitAll(['int-1'], 5);
      await redis.sadd(`${prefix}:state:integrations`, 'orphan');
      expect((await snapshots.loadAll()).map((s) => s.integrationId)).toEqual(['int-1']);
      expect(await snapshots.retain(['int-1'], 6)).toEqual(['orphan']);
      expect(await redis.smembers(`${prefix}:state:integrations`)).toEqual(['int-1']);
    });

    it('keeps an integration polled after the cutoff even when it is not listed', async () => {
      const { snapshots } = stores;
      await commitAll(['int-1'], 5);
      await snapshots.commit({
        integrationId: 'int-1',
        expectedVersion: 1,
        version: 2,
        lineage: 'L',
        projectId: 'p',
        snapshot: snap('a'),
        nowMs: 10,
        outbox: [],
      });
      expect(await snapshots.retain([], 6)).toEqual([]);
      expect((await snapshots.load('int-1'))?.version).toBe(2);
    });
  });
});
