/** What every Outbox must do, whatever keeps the data; entries arrive through the commits of the same store. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffSnapshots } from '../../src/core/diff.js';
import { INITIAL_UPSTREAM_STATE } from '../../src/core/upstream-policy.js';
import type { OutboxEntry } from '../../src/ports.js';
import { state } from '../helpers/builders.js';
import { alertsEntry } from '../helpers/store-builders.js';
import type { StoresFactory, StoresSubject } from './subjects.js';

/** An upstream message: high priority (core/outbox-order.ts), in the order committed among its kind. */
const entry = (id: string, destination = 'slack'): OutboxEntry => ({
  id,
  destination,
  enqueuedAt: 1,
  notification: { kind: 'upstream', projectId: 'p', state: 'down', reason: id, detectedAt: 't' },
});

const enqueue = (s: StoresSubject, entries: OutboxEntry[]) =>
  s.snapshots.commit({
    integrationId: `int-${entries[0]?.id}`,
    expectedVersion: undefined,
    version: 1,
    lineage: 'L',
    projectId: 'p',
    snapshot: diffSnapshots(undefined, [state('a')]).next,
    nowMs: 1,
    outbox: entries,
  });

export function outboxContract(create: StoresFactory): void {
  let s: StoresSubject;
  beforeEach(async () => {
    s = await create();
  });
  afterEach(() => s.close());

  describe('the head', () => {
    it('is nothing in an empty outbox', async () => {
      expect(await s.outbox.head()).toBeUndefined();
      expect(await s.outbox.headId()).toBeUndefined();
      expect(await s.outbox.size()).toBe(0);
    });

    it("is the oldest entry, with its destination, and the channel's last success and last fault", async () => {
      await enqueue(s, [entry('n1', 'default'), entry('n2')]);
      expect(await s.outbox.head()).toEqual({ id: 'n1', entry: entry('n1', 'default'), channel: { lastSuccessMs: undefined, lastFaultMs: undefined } });
      expect(await s.outbox.headId()).toBe('n1');
      expect(await s.outbox.size()).toBe(2);
      await s.outbox.markChannelDown('HTTP 404', 1000);
      await s.outbox.markChannelDown('HTTP 404', 2000);
      expect((await s.outbox.head())?.channel).toEqual({ lastSuccessMs: undefined, lastFaultMs: 2000 });
      await s.outbox.pop('n1', false, 3000);
      expect(await s.outbox.head()).toEqual({ id: 'n2', entry: entry('n2'), channel: { lastSuccessMs: 3000, lastFaultMs: 2000 } });
    });
  });

  describe('pop', () => {
    it('removes only the head, and moves a dead one to the dead letters', async () => {
      await enqueue(s, [entry('n1'), entry('n2')]);
      expect(await s.outbox.pop('n2', false)).toEqual({ popped: false, head: 'n1', recovered: false });
      expect(await s.outbox.pop('n1', false)).toEqual({ popped: true, head: 'n2', recovered: false });
      expect(await s.outbox.pop('n1', false)).toEqual({ popped: false, head: 'n2', recovered: false });
      expect(await s.outbox.pop('n2', true)).toEqual({ popped: true, head: undefined, recovered: false });
      expect(await s.outbox.deadLetters()).toEqual([entry('n2')]);
      expect(await s.outbox.size()).toBe(0);
    });

    it('keeps at most deadLetterMax dead letters, trimming the oldest first', async () => {
      const capped = await create({ deadLetterMax: 3 });
      try {
        const ids = ['d1', 'd2', 'd3', 'd4', 'd5'];
        await enqueue(
          capped,
          ids.map((id) => entry(id)),
        );
        for (const id of ids) await capped.outbox.pop(id, true);
        expect((await capped.outbox.deadLetters()).map((e) => e.id)).toEqual(['d3', 'd4', 'd5']);
        expect((await capped.outbox.channelStatus()).deadLetters).toBe(3);
      } finally {
        await capped.close();
      }
    });
  });

  describe('replayDeadLetters', () => {
    /** Dead-letters every one of `ids`, in order, through the head. */
    const deadLetter = async (ids: string[]): Promise<void> => {
      await enqueue(
        s,
        ids.map((id) => entry(id)),
      );
      for (const id of ids) await s.outbox.pop(id, true);
    };
    const renamed = (id: string): string => `${id}.replay-x`;

    it('moves the named dead letters to the tail of the outbox in the order asked, under new ids, with a new enqueuedAt', async () => {
      await deadLetter(['d1', 'd2', 'd3']);
      await enqueue(s, [entry('w1')]);
      const result = await s.outbox.replayDeadLetters(['d3', 'd1'], 50, renamed);
      expect(result).toEqual({
        replayed: [
          { id: 'd3', newId: 'd3.replay-x' },
          { id: 'd1', newId: 'd1.replay-x' },
        ],
        missing: [],
        unreadable: [],
      });
      expect((await s.outbox.deadLetters()).map((e) => e.id)).toEqual(['d2']);
      expect((await s.outbox.channelStatus()).deadLetters).toBe(1);
      expect(await s.outbox.size()).toBe(3);
      const delivered: (string | undefined)[] = [];
      for (let head = await s.outbox.head(); head !== undefined; head = await s.outbox.head()) {
        delivered.push(head.entry?.id);
        if (head.entry?.id !== 'w1') expect(head.entry).toEqual({ ...entry(head.id.replace('.replay-x', '')), id: head.id, enqueuedAt: 50 });
        await s.outbox.pop(head.id, false, 60);
      }
      expect(delivered).toEqual(['w1', 'd3.replay-x', 'd1.replay-x']);
    });

    it('moves nothing when an id is not a dead letter, and names it', async () => {
      await deadLetter(['d1']);
      await enqueue(s, [entry('w1')]);
      expect(await s.outbox.replayDeadLetters(['d1', 'nope', 'w1'], 50, renamed)).toEqual({ replayed: [], missing: ['nope', 'w1'], unreadable: [] });
      expect((await s.outbox.deadLetters()).map((e) => e.id)).toEqual(['d1']);
      expect(await s.outbox.size()).toBe(1);
    });

    it('replays an id named twice once, and nothing for no ids', async () => {
      await deadLetter(['d1']);
      expect(await s.outbox.replayDeadLetters([], 50, renamed)).toEqual({ replayed: [], missing: [], unreadable: [] });
      expect((await s.outbox.replayDeadLetters(['d1', 'd1'], 50, renamed)).replayed).toEqual([{ id: 'd1', newId: 'd1.replay-x' }]);
      expect(await s.outbox.size()).toBe(1);
      expect(await s.outbox.deadLetters()).toEqual([]);
    });
  });

  describe('the channel', () => {
    it('is unknown at first, goes down once, and comes back up with the next delivery', async () => {
      expect(await s.outbox.channelStatus()).toEqual({ up: undefined, reason: undefined, downSinceMs: undefined, lastSuccessMs: undefined, deadLetters: 0 });
      expect(await s.outbox.markChannelDown('HTTP 404 no_service', 1000)).toBe(true);
      expect(await s.outbox.markChannelDown('HTTP 410 channel_is_archived', 2000)).toBe(false);
      expect(await s.outbox.channelStatus()).toEqual({
        up: false,
        reason: 'HTTP 410 channel_is_archived',
        downSinceMs: 1000,
        lastSuccessMs: undefined,
        deadLetters: 0,
      });
      await enqueue(s, [entry('n1'), entry('n2')]);
      expect(await s.outbox.pop('n1', false, 3000)).toEqual({ popped: true, head: 'n2', recovered: true });
      expect(await s.outbox.pop('n2', false, 4000)).toEqual({ popped: true, head: undefined, recovered: false });
      expect(await s.outbox.channelStatus()).toEqual({ up: true, reason: undefined, downSinceMs: undefined, lastSuccessMs: 4000, deadLetters: 0 });
    });

    it('is not marked up by a dead letter', async () => {
      await s.outbox.markChannelDown('HTTP 404', 1000);
      await enqueue(s, [entry('n1')]);
      expect(await s.outbox.pop('n1', true)).toEqual({ popped: true, head: undefined, recovered: false });
      expect(await s.outbox.channelStatus()).toMatchObject({ up: false, deadLetters: 1 });
    });
  });
}

/** Commits of one integration after another, each appending `entries`: version 1, 2, … per integration. */
function committer(s: () => StoresSubject) {
  const versions = new Map<string, number>();
  return async (integrationId: string, entries: OutboxEntry[]): Promise<void> => {
    const version = (versions.get(integrationId) ?? 0) + 1;
    const result = await s().snapshots.commit({
      integrationId,
      expectedVersion: version === 1 ? undefined : version - 1,
      version,
      lineage: 'L',
      projectId: 'p',
      snapshot: diffSnapshots(undefined, [state('a')]).next,
      nowMs: 1000 * version,
      outbox: entries,
    });
    expect(result.committed).toBe(true);
    versions.set(integrationId, version);
  };
}

/** The ids waiting, head first, as delivery would take them (popping each). */
async function drainIds(s: StoresSubject): Promise<string[]> {
  const out: string[] = [];
  for (let head = await s.outbox.head(); head !== undefined; head = await s.outbox.head()) {
    out.push(head.id);
    await s.outbox.pop(head.id, false, 1);
  }
  return out;
}

export function outboxOrderContract(create: StoresFactory): void {
  let s: StoresSubject;
  let commit: ReturnType<typeof committer>;
  beforeEach(async () => {
    s = await create();
    commit = committer(() => s);
  });
  afterEach(() => s.close());

  describe('priority', () => {
    it("puts the monitor's own message behind the head, before a backlog of other integrations' alerts", async () => {
      for (let i = 1; i <= 4; i += 1) await commit(`int-${i}`, [alertsEntry(`low${i}`, `int-${i}`, ['x'])]);
      const head = await s.outbox.head();
      await s.upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, entry('up1'));
      await s.upstream.commit('proj-1', 1, INITIAL_UPSTREAM_STATE, entry('up2'));
      expect((await s.outbox.head())?.id).toBe(head?.id);
      expect(await drainIds(s)).toEqual(['low1', 'up1', 'up2', 'low2', 'low3', 'low4']);
    });

    it('puts recoveries and reminders in the same lane, in the order they came', async () => {
      for (let i = 1; i <= 3; i += 1) await commit(`int-${i}`, [alertsEntry(`low${i}`, `int-${i}`, ['x'])]);
      await commit('int-8', [alertsEntry('resolved', 'int-8', ['x'], 'resolve')]);
      await commit('int-9', [alertsEntry('reminder', 'int-9', ['x'], 'remind')]);
      expect(await drainIds(s)).toEqual(['low1', 'resolved', 'reminder', 'low2', 'low3']);
    });

    it('never puts a recovery before a waiting message of its own integration: right behind the newest one instead', async () => {
      const baseline = (id: string, integrationId: string): OutboxEntry => ({
        id,
        destination: 'slack',
        enqueuedAt: 1,
        notification: { kind: 'baseline', projectId: 'p', integrationId, detectedAt: 't', items: [], part: 1, parts: 1 },
      });
      await commit('int-0', [alertsEntry('first', 'int-0', ['x'])]);
      await commit('int-9', [alertsEntry('resolved9', 'int-9', ['x'], 'resolve')]);
      await commit('int-2', [alertsEntry('b1', 'int-2', ['x'])]);
      await commit('int-1', [baseline('base1', 'int-1')]);
      await commit('int-3', [alertsEntry('c1', 'int-3', ['x'])]);
      await commit('int-1', [alertsEntry('resolved1', 'int-1', ['x'], 'resolve')]);
      await commit('int-1', [alertsEntry('reminder1', 'int-1', ['y'], 'remind')]);
      await commit('int-4', [alertsEntry('resolved4', 'int-4', ['x'], 'resolve')]);
      expect(await drainIds(s)).toEqual(['first', 'resolved9', 'resolved4', 'b1', 'base1', 'resolved1', 'c1']);
    });

    it('puts a recovery of the integration whose message is the head right behind it', async () => {
      await commit('int-1', [alertsEntry('a1', 'int-1', ['x'])]);
      await commit('int-2', [alertsEntry('b1', 'int-2', ['x'])]);
      await commit('int-1', [alertsEntry('a2', 'int-1', ['x'], 'resolve')]);
      expect(await drainIds(s)).toEqual(['a1', 'a2', 'b1']);
    });

    it('makes a high entry the head of an empty outbox, and appends behind a lone head', async () => {
      await s.upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, entry('up1'));
      expect(await s.outbox.headId()).toBe('up1');
      await s.upstream.commit('proj-1', 1, INITIAL_UPSTREAM_STATE, entry('up2'));
      expect(await drainIds(s)).toEqual(['up1', 'up2']);
    });
  });

  describe('coalescing', () => {
    it("merges a waiting digest with the next one of its integration: one entry, in the waiting one's place, with both polls' events", async () => {
      await commit('int-0', [alertsEntry('first', 'int-0', ['x'])]);
      await commit('int-1', [alertsEntry('a1', 'int-1', ['x'])]);
      await commit('int-2', [alertsEntry('b1', 'int-2', ['x'])]);
      await commit('int-1', [alertsEntry('a2', 'int-1', ['y'])]);
      await commit('int-1', [alertsEntry('a3', 'int-1', ['z'])]);
      expect(await s.outbox.size()).toBe(3);
      await s.outbox.pop('first', false, 1);
      const head = await s.outbox.head();
      expect(head?.id).toBe('a1');
      const merged = head?.entry?.notification;
      expect(merged?.kind === 'alerts' && merged.items.map((it) => it.installationId)).toEqual(['x', 'y', 'z']);
      expect(merged?.kind === 'alerts' && merged.coalesced?.digests).toBe(3);
      expect(await drainIds(s)).toEqual(['a1', 'b1']);
    });

    it('never merges into the head, which may be being sent, nor after it is gone', async () => {
      await commit('int-1', [alertsEntry('a1', 'int-1', ['x'])]);
      await commit('int-1', [alertsEntry('a2', 'int-1', ['y'])]);
      expect(await s.outbox.size()).toBe(2);
      await s.outbox.pop('a1', false, 1);
      await s.outbox.pop('a2', false, 1);
      await commit('int-1', [alertsEntry('a3', 'int-1', ['z'])]);
      await commit('int-1', [alertsEntry('a4', 'int-1', ['w'])]);
      expect(await drainIds(s)).toEqual(['a3', 'a4']);
    });

    it('merges a recovery into the waiting digest in its place: the integration keeps its order', async () => {
      await commit('int-0', [alertsEntry('first', 'int-0', ['x'])]);
      await commit('int-1', [alertsEntry('a1', 'int-1', ['x'])]);
      await commit('int-2', [alertsEntry('b1', 'int-2', ['x'])]);
      await commit('int-1', [alertsEntry('a2', 'int-1', ['x'], 'resolve')]);
      expect(await drainIds(s)).toEqual(['first', 'a1', 'b1']);
    });

    it('keeps digests of other integrations and kinds apart', async () => {
      await commit('int-0', [entry('first')]);
      await commit('int-1', [alertsEntry('a1', 'int-1', ['x'])]);
      await commit('int-2', [alertsEntry('b1', 'int-2', ['x'])]);
      await commit('int-1', [{ ...alertsEntry('a2', 'int-1', ['y']), destination: 'pager' }]);
      await commit('int-1', [{ ...alertsEntry('a3', 'int-1', ['y']), destination: 'pager' }]);
      await commit('int-1', [{ ...alertsEntry('a4', 'int-1', ['z']), destination: 'pager' }]);
      expect(await drainIds(s)).toEqual(['first', 'a1', 'b1']);
      // Another route's digest goes to its own lane, and merges only there (never into its head).
      expect(await s.lane('pager').headId()).toBe('a2');
      expect(await s.lane('pager').size()).toBe(2);
    });
  });

  describe('the cap', () => {
    let capped: StoresSubject;
    beforeEach(async () => {
      capped = await create({ outboxMax: 10 });
      commit = committer(() => capped);
    });
    afterEach(() => capped.close());

    it('folds the oldest low-priority entries after the head into one notice, and counts them, keeping the outbox within its cap', async () => {
      await commit('int-0', [alertsEntry('head', 'int-0', ['x'])]);
      await commit('int-r', [alertsEntry('resolved', 'int-r', ['x'], 'resolve')]);
      for (let i = 1; i <= 12; i += 1) {
        await commit(`int-${i}`, [alertsEntry(`low${i}`, `int-${i}`, ['x'])]);
        expect(await capped.outbox.size()).toBeLessThanOrEqual(10);
      }
      // low9 passes the cap: low1 goes, and the notice takes a place, so low2 goes too; then one for each.
      expect(await capped.outbox.droppedTotal()).toBe(5);
      const ids = await drainIdsAndNotices(capped);
      expect(ids).toEqual(['head', 'resolved', 'dropped:5', 'low6', 'low7', 'low8', 'low9', 'low10', 'low11', 'low12']);
    });

    it('counts later drops in the notice while it waits, and starts a new one once it is sent', async () => {
      await commit('int-0', [alertsEntry('head', 'int-0', ['x'])]);
      for (let i = 1; i <= 12; i += 1) await commit(`int-${i}`, [alertsEntry(`low${i}`, `int-${i}`, ['x'])]);
      expect(await capped.outbox.droppedTotal()).toBe(4);
      expect(await capped.outbox.size()).toBe(10);
      await capped.outbox.pop('head', false, 1);
      const notice = await capped.outbox.head();
      expect(notice?.entry).toMatchObject({ destination: 'default', enqueuedAt: 1000, notification: { kind: 'dropped', count: 4, cap: 10, sinceMs: 1000 } });
      expect(notice?.entry?.notification).not.toHaveProperty('route');
      await capped.outbox.pop(notice?.id ?? '', false, 1);
      for (let i = 13; i <= 15; i += 1) await commit(`int-${i}`, [alertsEntry(`low${i}`, `int-${i}`, ['x'])]);
      expect(await capped.outbox.droppedTotal()).toBe(6);
      expect(await drainIdsAndNotices(capped)).toEqual(['low5', 'dropped:2', 'low8', 'low9', 'low10', 'low11', 'low12', 'low13', 'low14', 'low15']);
    });

    it('never drops the head, the monitor’s own messages, recoveries or reminders', async () => {
      await commit('int-0', [alertsEntry('head', 'int-0', ['x'])]);
      for (let i = 1; i <= 12; i += 1) await capped.upstream.commit('proj-1', i - 1, INITIAL_UPSTREAM_STATE, entry(`up${i}`));
      await commit('int-1', [alertsEntry('low1', 'int-1', ['x'])]);
      expect(await capped.outbox.droppedTotal()).toBe(1);
      const ids = await drainIdsAndNotices(capped);
      expect(ids).toEqual(['head', ...Array.from({ length: 12 }, (_, i) => `up${i + 1}`), 'dropped:1']);
    });
  });
}

/** As drainIds, naming a dropped notice by its count. */
async function drainIdsAndNotices(s: StoresSubject): Promise<string[]> {
  const out: string[] = [];
  for (let head = await s.outbox.head(); head !== undefined; head = await s.outbox.head()) {
    const n = head.entry?.notification;
    out.push(n?.kind === 'dropped' ? `dropped:${n.count}` : head.id);
    await s.outbox.pop(head.id, false, 1);
  }
  return out;
}

/** What every Outbox must do with several routes: one lane per route, each with its own order, cap and channel state. */
export function outboxLanesContract(create: StoresFactory): void {
  let s: StoresSubject;
  let commit: ReturnType<typeof committer>;
  beforeEach(async () => {
    s = await create();
    commit = committer(() => s);
  });
  afterEach(() => s.close());

  /** An alert digest of `integrationId` for `route`. */
  const routed = (id: string, integrationId: string, route: string, event: 'fire' | 'resolve' = 'fire'): OutboxEntry => ({
    ...alertsEntry(id, integrationId, ['x'], event),
    destination: route,
  });

  it('appends each entry of one commit to the lane of its route, atomically, and answers the head of each lane', async () => {
    const result = await s.snapshots.commit({
      integrationId: 'int-1',
      expectedVersion: undefined,
      version: 1,
      lineage: 'L',
      projectId: 'p',
      snapshot: diffSnapshots(undefined, [state('a')]).next,
      nowMs: 1,
      outbox: [routed('d1', 'int-1', 'default'), routed('s1', 'int-1', 'sales'), routed('o1', 'int-1', 'ops')],
    });
    expect(result).toEqual({
      committed: true,
      version: 1,
      outboxHead: 'd1',
      laneHeads: [
        { lane: 'sales', head: 's1' },
        { lane: 'ops', head: 'o1' },
      ],
    });
    expect(await s.outbox.size()).toBe(1);
    expect(await s.lane('sales').head()).toMatchObject({ id: 's1', entry: { destination: 'sales' } });
    expect(await s.lane('ops').headId()).toBe('o1');
  });

  it('reads the default lane under both names of the default route, and a lane of the release before as it', async () => {
    await commit('int-1', [routed('old', 'int-1', 'slack')]);
    await commit('int-1', [routed('new', 'int-1', 'default', 'resolve')]);
    expect(await s.lane('default').headId()).toBe('old');
    expect(await s.lane('slack').headId()).toBe('old');
    // The recovery keeps behind the firing of its integration queued by the release before.
    expect(await drainIds(s)).toEqual(['old', 'new']);
  });

  it('keeps the channel state of each lane apart: a revoked route pauses only its own lane', async () => {
    await commit('int-1', [routed('d1', 'int-1', 'default'), routed('s1', 'int-1', 'sales')]);
    const sales = s.lane('sales');
    expect(await sales.markChannelDown('HTTP 403 invalid_token', 1000)).toBe(true);
    expect(await sales.channelStatus()).toMatchObject({ up: false, reason: 'HTTP 403 invalid_token', downSinceMs: 1000 });
    expect(await s.outbox.channelStatus()).toMatchObject({ up: undefined });
    await s.outbox.pop('d1', false, 2000);
    expect(await s.outbox.channelStatus()).toMatchObject({ up: true, lastSuccessMs: 2000 });
    expect(await sales.channelStatus()).toMatchObject({ up: false });
    expect(await sales.head()).toMatchObject({ id: 's1', channel: { lastSuccessMs: undefined, lastFaultMs: 1000 } });
    expect(await sales.pop('s1', false, 3000)).toEqual({ popped: true, head: undefined, recovered: true });
  });

  it('pops only the head of its own lane', async () => {
    await commit('int-1', [routed('d1', 'int-1', 'default'), routed('s1', 'int-1', 'sales')]);
    expect(await s.outbox.pop('s1', false, 1)).toEqual({ popped: false, head: 'd1', recovered: false });
    expect(await s.lane('sales').pop('d1', false, 1)).toEqual({ popped: false, head: 's1', recovered: false });
  });

  it('shares the dead letters, each naming its route, and replays one into the lane asked', async () => {
    await commit('int-1', [routed('s1', 'int-1', 'sales')]);
    await s.lane('sales').pop('s1', true);
    expect((await s.outbox.deadLetters()).map((e) => [e.id, e.destination])).toEqual([['s1', 'sales']]);
    const replay = await s.lane('sales').replayDeadLetters(['s1'], 5, (id) => `${id}.replay-1`);
    expect(replay.replayed).toEqual([{ id: 's1', newId: 's1.replay-1' }]);
    expect(await s.lane('sales').headId()).toBe('s1.replay-1');
    expect(await s.outbox.size()).toBe(0);
  });

  it('sends an upstream message to every lane it is committed for', async () => {
    const up = (id: string, destination: string): OutboxEntry => ({ ...entry(id), destination });
    const result = await s.upstream.commit('proj-1', 0, INITIAL_UPSTREAM_STATE, [up('u1', 'default'), up('u1.sales', 'sales')]);
    expect(result).toEqual({ committed: true, version: 1, outboxHead: 'u1', laneHeads: [{ lane: 'sales', head: 'u1.sales' }] });
  });
}

/** The cap of each lane, and where the notice of its drops goes. */
export function outboxLaneCapContract(create: StoresFactory): void {
  let s: StoresSubject;
  let commit: ReturnType<typeof committer>;
  beforeEach(async () => {
    s = await create({ outboxMax: 3 });
    commit = committer(() => s);
  });
  afterEach(() => s.close());

  it("caps each lane on its own, and counts a route's drops in a notice of the default lane that names the route", async () => {
    await commit('int-d', [{ ...alertsEntry('d1', 'int-d', ['x']), destination: 'default' }]);
    for (let i = 1; i <= 5; i += 1) await commit(`int-${i}`, [{ ...alertsEntry(`s${i}`, `int-${i}`, ['x']), destination: 'sales' }]);
    expect(await s.lane('sales').size()).toBe(3);
    expect(await s.outbox.droppedTotal()).toBe(2);
    // The default lane keeps its entry and gets the notice, which is counted up while it waits.
    expect(await s.outbox.size()).toBe(2);
    await s.outbox.pop('d1', false, 1);
    const notice = await s.outbox.head();
    expect(notice?.entry).toMatchObject({ destination: 'default', notification: { kind: 'dropped', count: 2, cap: 3, route: 'sales' } });
    const ids: string[] = [];
    for (let head = await s.lane('sales').headId(); head !== undefined; head = await s.lane('sales').headId()) {
      ids.push(head);
      await s.lane('sales').pop(head, false, 1);
    }
    expect(ids).toEqual(['s1', 's4', 's5']);
  });
}
