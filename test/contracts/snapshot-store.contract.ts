/**
 * What every SnapshotStore must do, whatever keeps the data. A snapshot's
 * notifications go to the outbox of the same store, so the subject has both.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Episode } from '../../src/core/episodes.js';
import type { CommitRequest } from '../../src/ports.js';
import type { StoresFactory, StoresSubject } from './subjects.js';
import { entry, snap } from '../helpers/store-builders.js';

const baseline = (integrationId: string, overrides: Partial<CommitRequest> = {}): CommitRequest => ({
  integrationId,
  expectedVersion: undefined,
  version: 1,
  lineage: 'L',
  projectId: 'p',
  snapshot: snap('a'),
  nowMs: 5,
  outbox: [],
  ...overrides,
});

export function snapshotStoreContract(create: StoresFactory): void {
  let s: StoresSubject;
  beforeEach(async () => {
    s = await create();
  });
  afterEach(() => s.close());

  describe('load and commit', () => {
    it('loads nothing for an integration never committed, and a baseline as committed', async () => {
      expect(await s.snapshots.load('int-1')).toBeUndefined();
      expect(await s.snapshots.commit(baseline('int-1', { lineage: 'L1', snapshot: snap('a', 'b'), nowMs: 1000 }))).toEqual({
        committed: true,
        version: 1,
        outboxHead: undefined,
      });
      expect(await s.snapshots.load('int-1')).toEqual({
        integrationId: 'int-1',
        version: 1,
        lineage: 'L1',
        projectId: 'p',
        lastSuccessMs: 1000,
        snapshot: snap('a', 'b'),
      });
    });

    it('refuses a second baseline and a commit against a stale version, and keeps only committed notifications', async () => {
      expect((await s.snapshots.commit(baseline('int-1', { outbox: [entry('x')] }))).committed).toBe(true);
      expect(await s.snapshots.commit(baseline('int-1', { outbox: [entry('y')] }))).toEqual({ committed: false });
      expect((await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2 }))).committed).toBe(true);
      expect(await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2, outbox: [entry('z')] }))).toEqual({ committed: false });
      expect(await s.outbox.headId()).toBe('x');
      expect(await s.outbox.size()).toBe(1);
    });

    it('writes the version the caller gives', async () => {
      expect(await s.snapshots.commit(baseline('int-1', { version: 7 }))).toEqual({ committed: true, version: 7, outboxHead: undefined });
      expect(await s.snapshots.commit(baseline('int-1', { expectedVersion: 7, version: 42 }))).toEqual({ committed: true, version: 42, outboxHead: undefined });
      expect((await s.snapshots.load('int-1'))?.version).toBe(42);
    });

    it.each([1, 2])('refuses a version (%s) that does not exceed the stored one, writing nothing: notification ids would repeat', async (version) => {
      await s.snapshots.commit(baseline('int-1', { version: 2, lineage: 'L1' }));
      await expect(s.snapshots.commit(baseline('int-1', { expectedVersion: 2, version, lineage: 'L2', outbox: [entry('n')] }))).rejects.toThrow(
        'does not exceed the stored version 2',
      );
      expect(await s.snapshots.load('int-1')).toMatchObject({ version: 2, lineage: 'L1' });
      expect(await s.outbox.size()).toBe(0);
    });

    it.each([0, -1, 1.5])('refuses to write the version %s', async (version) => {
      await expect(s.snapshots.commit(baseline('int-1', { version }))).rejects.toThrow(RangeError);
      expect(await s.snapshots.load('int-1')).toBeUndefined();
    });

    it('appends the notifications of a commit to the outbox in order, and returns the head', async () => {
      await s.upstream.commit('proj-1', 0, (await s.upstream.load('proj-1')).state, entry('earlier'));
      expect(await s.snapshots.commit(baseline('int-1', { outbox: [entry('n1'), entry('n2')] }))).toEqual({
        committed: true,
        version: 1,
        outboxHead: 'earlier',
      });
      expect((await s.outbox.head())?.entry).toEqual(entry('earlier'));
      await s.outbox.pop('earlier', false);
      expect((await s.outbox.head())?.entry).toEqual(entry('n1'));
      expect(await s.outbox.pop('n1', false)).toMatchObject({ head: 'n2' });
    });

    it('returns a snapshot the caller cannot change by changing what it committed', async () => {
      const snapshot = new Map(snap('a'));
      await s.snapshots.commit(baseline('int-1', { snapshot }));
      snapshot.delete('a');
      expect((await s.snapshots.load('int-1'))?.snapshot).toEqual(snap('a'));
    });
  });

  describe('a commit after a load', () => {
    // A poll loads, then commits against what it loaded; when nothing changed, a store may
    // keep the stored data (the Redis one does), but what is read back must be the same.
    it('of the same snapshot moves the version, lineage, project and last success on, and reads the same', async () => {
      await s.snapshots.commit(baseline('int-1', { snapshot: snap('a', 'b') }));
      const loaded = await s.snapshots.load('int-1');
      const next = baseline('int-1', { expectedVersion: loaded?.version, version: 2, lineage: 'L2', projectId: 'p2', snapshot: snap('a', 'b'), nowMs: 9 });
      expect(await s.snapshots.commit({ ...next, outbox: [entry('n')] })).toEqual({ committed: true, version: 2, outboxHead: 'n' });
      expect(await s.snapshots.load('int-1')).toEqual({
        integrationId: 'int-1',
        version: 2,
        lineage: 'L2',
        projectId: 'p2',
        lastSuccessMs: 9,
        snapshot: snap('a', 'b'),
      });
    });

    it('of a changed snapshot writes it, and of the first one again writes that', async () => {
      await s.snapshots.commit(baseline('int-1', { snapshot: snap('a') }));
      await s.snapshots.load('int-1');
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2, snapshot: snap('a', 'b') }));
      expect((await s.snapshots.load('int-1'))?.snapshot).toEqual(snap('a', 'b'));
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 2, version: 3, snapshot: snap('a') }));
      expect((await s.snapshots.load('int-1'))?.snapshot).toEqual(snap('a'));
    });

    it('of the same snapshot conflicts when another commit came in between, and the next load sees the other one', async () => {
      await s.snapshots.commit(baseline('int-1', { snapshot: snap('a') }));
      await s.snapshots.load('int-1');
      // Another replica, which loaded the same version, commits a change first.
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2, snapshot: snap('a', 'c') }));
      expect(await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2, snapshot: snap('a'), outbox: [entry('x')] }))).toEqual({
        committed: false,
      });
      expect(await s.snapshots.load('int-1')).toMatchObject({ version: 2, snapshot: snap('a', 'c') });
      expect(await s.outbox.size()).toBe(0);
    });
  });

  describe('the alert states', () => {
    it('are stored with the snapshot and loaded with it; a commit without them leaves them as they are', async () => {
      await s.snapshots.commit(baseline('int-1'));
      expect(await s.snapshots.load('int-1')).not.toHaveProperty('alertStates');
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2, alertStates: 'states-2' }));
      expect((await s.snapshots.load('int-1'))?.alertStates).toBe('states-2');
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 2, version: 3 }));
      expect(await s.snapshots.load('int-1')).toMatchObject({ version: 3, alertStates: 'states-2' });
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 3, version: 4, alertStates: 'states-4' }));
      expect(await s.snapshots.load('int-1')).toMatchObject({ version: 4, alertStates: 'states-4' });
    });

    it('are not written by a commit that conflicts', async () => {
      await s.snapshots.commit(baseline('int-1', { alertStates: 'first' }));
      expect(await s.snapshots.commit(baseline('int-1', { alertStates: 'second' }))).toEqual({ committed: false });
      expect(await s.snapshots.commit(baseline('int-1', { expectedVersion: 7, version: 8, alertStates: 'third' }))).toEqual({ committed: false });
      expect((await s.snapshots.load('int-1'))?.alertStates).toBe('first');
    });

    it('are returned by loadAll with each integration, and only with its own', async () => {
      await s.snapshots.commit(baseline('int-1', { alertStates: 'one' }));
      await s.snapshots.commit(baseline('int-2'));
      const all = await s.snapshots.loadAll();
      expect(all.find((x) => x.integrationId === 'int-1')?.alertStates).toBe('one');
      expect(all.find((x) => x.integrationId === 'int-2')).not.toHaveProperty('alertStates');
    });

    it('are forgotten with the integration by retain, so that it starts again without them', async () => {
      await s.snapshots.commit(baseline('int-1', { alertStates: 'old' }));
      await s.snapshots.commit(baseline('int-2', { alertStates: 'kept' }));
      expect(await s.snapshots.retain(['int-2'], 6)).toEqual(['int-1']);
      await s.snapshots.commit(baseline('int-1', { lineage: 'L2' }));
      expect(await s.snapshots.load('int-1')).not.toHaveProperty('alertStates');
      expect((await s.snapshots.load('int-2'))?.alertStates).toBe('kept');
    });
  });

  describe('the episode logs', () => {
    const DAY = 24 * 3_600_000;
    const firing: Episode = { condition: 'unhealthy', since: 1, firedAt: 2 };
    const ended = (endedAt: number): Episode => ({
      condition: 'operation_failing',
      since: 1,
      firedAt: 2,
      endedAt,
      reason: 'recovered',
      operationId: 'op',
      error: 'e',
    });

    it('are written with the commit and read per installation, with [] for one that has none', async () => {
      await s.snapshots.commit(
        baseline('int-1', {
          episodes: new Map([
            ['a', [firing]],
            ['b', [ended(3), firing]],
          ]),
        }),
      );
      expect(await s.snapshots.loadEpisodes('int-1', ['a', 'b', 'c'])).toEqual(
        new Map([
          ['a', [firing]],
          ['b', [ended(3), firing]],
          ['c', []],
        ]),
      );
      expect(await s.snapshots.loadEpisodes('int-2', ['a'])).toEqual(new Map([['a', []]]));
      expect(await s.snapshots.loadEpisodes('int-1', [])).toEqual(new Map());
    });

    it('are replaced one installation at a time, and deleted when empty', async () => {
      await s.snapshots.commit(
        baseline('int-1', {
          episodes: new Map([
            ['a', [firing]],
            ['b', [firing]],
          ]),
        }),
      );
      await s.snapshots.commit(
        baseline('int-1', {
          expectedVersion: 1,
          version: 2,
          episodes: new Map([
            ['a', [ended(3)]],
            ['b', []],
          ]),
        }),
      );
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 2, version: 3 }));
      expect(await s.snapshots.loadEpisodes('int-1', ['a', 'b'])).toEqual(
        new Map([
          ['a', [ended(3)]],
          ['b', []],
        ]),
      );
    });

    it('are not written by a commit that conflicts', async () => {
      await s.snapshots.commit(baseline('int-1'));
      expect(await s.snapshots.commit(baseline('int-1', { episodes: new Map([['a', [firing]]]) }))).toEqual({ committed: false });
      expect((await s.snapshots.loadEpisodes('int-1', ['a'])).get('a')).toEqual([]);
    });

    it('are dropped by a later commit once every episode of theirs ended 30 days ago; an open one is kept', async () => {
      const t0 = 100 * DAY;
      await s.snapshots.commit(
        baseline('int-1', {
          nowMs: t0,
          episodes: new Map([
            ['old', [ended(t0)]],
            ['open', [firing]],
          ]),
        }),
      );
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2, nowMs: t0 + 30 * DAY }));
      expect((await s.snapshots.loadEpisodes('int-1', ['old'])).get('old')).toEqual([ended(t0)]);
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 2, version: 3, nowMs: t0 + 30 * DAY + 1 }));
      expect(await s.snapshots.loadEpisodes('int-1', ['old', 'open'])).toEqual(
        new Map([
          ['old', []],
          ['open', [firing]],
        ]),
      );
    });

    it('drop at most 100 expired logs per commit, so that one commit stays short, and the rest with the next ones', async () => {
      const many = new Map(Array.from({ length: 150 }, (_, i): [string, Episode[]] => [`i${i}`, [ended(i)]]));
      await s.snapshots.commit(baseline('int-1', { nowMs: 0, episodes: many }));
      const left = async (): Promise<number> => [...(await s.snapshots.loadEpisodes('int-1', [...many.keys()])).values()].filter((l) => l.length > 0).length;
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2, nowMs: 31 * DAY }));
      expect(await left()).toBe(50);
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 2, version: 3, nowMs: 31 * DAY }));
      expect(await left()).toBe(0);
    });

    it('are forgotten with the integration by retain', async () => {
      await s.snapshots.commit(baseline('int-1', { episodes: new Map([['a', [firing]]]) }));
      expect(await s.snapshots.retain([], 6)).toEqual(['int-1']);
      await s.snapshots.commit(baseline('int-1', { lineage: 'L2' }));
      expect((await s.snapshots.loadEpisodes('int-1', ['a'])).get('a')).toEqual([]);
    });
  });

  describe('loadAll and retain', () => {
    it('returns every integration, and drops only the ones neither listed nor polled since the cutoff', async () => {
      for (const id of ['int-1', 'int-2', 'int-3']) await s.snapshots.commit(baseline(id));
      expect((await s.snapshots.loadAll()).map((x) => x.integrationId).sort()).toEqual(['int-1', 'int-2', 'int-3']);
      expect(await s.snapshots.retain(['int-2'], 5)).toEqual([]);
      expect(await s.snapshots.retain([], 5)).toEqual([]);
      expect((await s.snapshots.retain(['int-2'], 6)).sort()).toEqual(['int-1', 'int-3']);
      expect((await s.snapshots.loadAll()).map((x) => x.integrationId)).toEqual(['int-2']);
      expect(await s.snapshots.load('int-1')).toBeUndefined();
      expect(await s.snapshots.retain([], 6)).toEqual(['int-2']);
      expect(await s.snapshots.loadAll()).toEqual([]);
    });

    it('loadChanged returns every integration, with its state only when the token given for it is no longer the stored one', async () => {
      await s.snapshots.commit(baseline('int-1'));
      await s.snapshots.commit(baseline('int-2', { snapshot: snap('x', 'y') }));
      const first = await s.snapshots.loadChanged(new Map());
      expect(first.map((r) => [r.integrationId, r.changed?.snapshot?.size]).sort()).toEqual([
        ['int-1', 1],
        ['int-2', 2],
      ]);
      const tokens = new Map(first.map((r) => [r.integrationId, r.token]));
      expect([...tokens.values()].every((t) => t !== '')).toBe(true);
      expect((await s.snapshots.loadChanged(tokens)).map((r) => r.changed)).toEqual([undefined, undefined]);

      // A poll that changed nothing moves the version and the time, not the token.
      await s.snapshots.load('int-1');
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2, nowMs: 10 }));
      const unchanged = (await s.snapshots.loadChanged(tokens)).find((r) => r.integrationId === 'int-1');
      expect(unchanged).toMatchObject({ projectId: 'p', lastSuccessMs: 10, token: tokens.get('int-1'), changed: undefined });

      // New data, or new alert states alone, is a change.
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 2, version: 3, snapshot: snap('a', 'b') }));
      await s.snapshots.commit(baseline('int-2', { expectedVersion: 1, version: 2, snapshot: snap('x', 'y'), alertStates: '{"v":1}' }));
      const changed = await s.snapshots.loadChanged(tokens);
      expect(changed.map((r) => [r.integrationId, r.changed?.snapshot?.size, r.changed?.alertStates]).sort()).toEqual([
        ['int-1', 2, undefined],
        ['int-2', 2, '{"v":1}'],
      ]);

      // A forgotten integration is not returned at all.
      await s.snapshots.retain(['int-2'], 100);
      expect((await s.snapshots.loadChanged(tokens)).map((r) => r.integrationId)).toEqual(['int-2']);
    });

    it('keeps an unlisted integration polled after the cutoff', async () => {
      await s.snapshots.commit(baseline('int-1'));
      await s.snapshots.commit(baseline('int-1', { expectedVersion: 1, version: 2, nowMs: 10 }));
      expect(await s.snapshots.retain([], 6)).toEqual([]);
      expect((await s.snapshots.load('int-1'))?.version).toBe(2);
    });

    it('lets a dropped integration start again with a baseline', async () => {
      await s.snapshots.commit(baseline('int-1'));
      await s.snapshots.retain([], 6);
      expect((await s.snapshots.commit(baseline('int-1', { lineage: 'L2' }))).committed).toBe(true);
      expect((await s.snapshots.load('int-1'))?.lineage).toBe('L2');
    });
  });
}
