/** What every Outbox must do, whatever keeps the data; entries arrive through the commits of the same store. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffSnapshots } from '../../src/core/diff.js';
import type { OutboxEntry } from '../../src/ports.js';
import { state } from '../helpers/builders.js';
import type { StoresFactory, StoresSubject } from './subjects.js';

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
      await enqueue(s, [entry('n1', 'pager'), entry('n2')]);
      expect(await s.outbox.head()).toEqual({ id: 'n1', entry: entry('n1', 'pager'), channel: { lastSuccessMs: undefined, lastFaultMs: undefined } });
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
