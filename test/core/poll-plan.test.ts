import { describe, expect, it } from 'vitest';
import { MAX_INSTALLATIONS_PER_MESSAGE } from '../../src/core/notification.js';
import { planPoll, type PollIds, type StoredPollState } from '../../src/core/poll-plan.js';
import type { InstallationState } from '../../src/core/installation.js';
import { MESSAGE_LIMITS, blockTextLength, renderSlackMessage } from '../../src/core/slack-message.js';
import { state } from '../helpers/builders.js';

const NOW = new Date('2026-11-30T12:00:00.000Z');

/** Ids whose lineage generator records how often it was called. */
function ids(overrides: Partial<PollIds> = {}): PollIds & { readonly lineagesMade: () => number } {
  let made = 0;
  return {
    integrationId: 'int-1',
    projectId: 'configured-project',
    newLineage: () => {
      made += 1;
      return `new${made}`;
    },
    lineagesMade: () => made,
    ...overrides,
  };
}

const listing = (...overrides: [string, Partial<InstallationState>?][]): InstallationState[] => overrides.map(([id, o]) => state(id, o ?? {}));

/** The stored state a previous plan over `list` leaves. */
function storedAfter(list: readonly InstallationState[], version = 4, lineage = 'old'): StoredPollState {
  const first = planPoll(undefined, list, NOW, ids());
  return { version, lineage, projectId: 'proj-1', snapshot: first.snapshot };
}

describe('planPoll', () => {
  describe('when nothing readable is stored', () => {
    it.each<[string, StoredPollState | undefined, { reason: string } | undefined]>([
      ['no stored state', undefined, undefined],
      [
        'unreadable data',
        { version: 7, lineage: 'old', projectId: 'proj-1', snapshot: undefined, unreadable: { reason: 'stored snapshot data cannot be decoded' } },
        { reason: 'stored snapshot data cannot be decoded' },
      ],
      [
        'an unreadable version',
        { version: 0, lineage: 'old', projectId: 'proj-1', snapshot: undefined, unreadable: { reason: 'stored version "x" is not a number' } },
        { reason: 'stored version "x" is not a number' },
      ],
    ])('with %s it plans a baseline summary with a new lineage and no transitions', (_, stored, unreadable) => {
      const made = ids();
      const plan = planPoll(stored, listing(['a'], ['b', { healthStatus: 'unhealthy' }]), NOW, made);
      expect(plan.baseline).toBe(true);
      expect(plan.unreadable).toEqual(unreadable);
      expect(plan.lineage).toBe('new1');
      expect(made.lineagesMade()).toBe(1);
      expect(plan.transitions).toEqual([]);
      expect(plan.alerts).toEqual([expect.objectContaining({ change: 'baseline', installationId: 'b', field: 'health_status', to: 'unhealthy' })]);
      expect(plan.notifications).toHaveLength(1);
      expect(plan.notifications[0]?.notification).toMatchObject({ kind: 'baseline', integrationId: 'int-1', part: 1, parts: 1 });
      expect([...plan.snapshot.keys()]).toEqual(['a', 'b']);
    });

    it('plans a baseline with no notification when nothing needs attention', () => {
      const plan = planPoll(undefined, listing(['a']), NOW, ids());
      expect(plan.baseline).toBe(true);
      expect(plan.notifications).toEqual([]);
    });
  });

  describe('the version it plans', () => {
    it.each<[string, StoredPollState | undefined, number]>([
      ['no stored state', undefined, 1],
      ['an unreadable version (read as 0)', { version: 0, lineage: 'l', projectId: '', snapshot: undefined, unreadable: { reason: 'bad' } }, 1],
      ['unreadable data under version 7', { version: 7, lineage: 'l', projectId: '', snapshot: undefined, unreadable: { reason: 'bad' } }, 8],
      ['a readable version 4', storedAfter(listing(['a']), 4), 5],
    ])('after %s is %i', (_, stored, version) => {
      expect(planPoll(stored, listing(['a']), NOW, ids()).version).toBe(version);
    });
  });

  describe('when an installation changes', () => {
    it('plans its transitions, the alerts and one notification, on the stored lineage', () => {
      const made = ids();
      const plan = planPoll(storedAfter(listing(['a'], ['b'])), listing(['a', { healthStatus: 'unhealthy' }], ['b']), NOW, made);
      expect(plan.baseline).toBe(false);
      expect(plan.unreadable).toBeUndefined();
      expect(plan.lineage).toBe('old');
      expect(made.lineagesMade()).toBe(0);
      expect(plan.transitions).toEqual([{ installationId: 'a', field: 'health_status', from: 'healthy', to: 'unhealthy', groupRef: 'org-a' }]);
      expect(plan.alerts).toEqual([expect.objectContaining({ severity: 'problem', change: 'changed', installationId: 'a', from: 'healthy', to: 'unhealthy' })]);
      expect(plan.notifications).toEqual([
        {
          id: 'int-1.old.5.1',
          destination: 'slack',
          enqueuedAt: NOW.getTime(),
          notification: {
            kind: 'transitions',
            projectId: 'proj-1',
            integrationId: 'int-1',
            detectedAt: '2026-11-30T12:00:00.000Z',
            items: plan.alerts,
            part: 1,
            parts: 1,
          },
        },
      ]);
      expect(plan.snapshot.get('a')?.healthStatus).toBe('unhealthy');
    });

    it('names the group of a removed installation in its transitions', () => {
      const plan = planPoll(storedAfter(listing(['a'], ['gone', { groupRef: 'org-gone' }])), listing(['a']), NOW, ids());
      expect(plan.transitions.map((t) => [t.installationId, t.to, t.groupRef])).toEqual([
        ['gone', 'none', 'org-gone'],
        ['gone', 'none', 'org-gone'],
        ['gone', 'none', 'org-gone'],
      ]);
    });

    it('plans transitions that alert nothing with no notification', () => {
      const plan = planPoll(storedAfter(listing(['a'])), listing(['a', { lastOperationStatus: 'in_progress' }]), NOW, ids());
      expect(plan.transitions).toHaveLength(1);
      expect(plan.alerts).toEqual([]);
      expect(plan.notifications).toEqual([]);
    });
  });

  describe('when nothing changed', () => {
    it('plans the same snapshot, no transition and no notification, on the stored lineage', () => {
      const stored = storedAfter(listing(['a'], ['b', { healthStatus: 'unhealthy' }]));
      const plan = planPoll(stored, listing(['a'], ['b', { healthStatus: 'unhealthy' }]), NOW, ids());
      expect(plan.baseline).toBe(false);
      expect(plan.snapshot).toEqual(stored.snapshot);
      expect(plan.transitions).toEqual([]);
      expect(plan.notifications).toEqual([]);
      expect(plan.lineage).toBe('old');
      expect(plan.version).toBe(5);
    });
  });

  describe('the project id', () => {
    it.each<[string, string, string, string]>([
      ['the API names one', 'api-project', 'stored-project', 'api-project'],
      ['the API names none', '', 'stored-project', 'stored-project'],
      ['neither names one', '', '', 'configured-project'],
    ])('when %s is %s', (_, api, storedProject, expected) => {
      const stored: StoredPollState = { ...storedAfter(listing(['a'])), projectId: storedProject };
      const plan = planPoll(stored, listing(['a', { projectId: api, healthStatus: 'unhealthy' }]), NOW, ids());
      expect(plan.projectId).toBe(expected);
      expect(plan.notifications[0]?.notification.projectId).toBe(expected);
    });
  });

  describe('the notification ids', () => {
    it('are the same every time the same commit is planned', () => {
      const stored = storedAfter(listing(['a'], ['b']), 9, 'lin');
      const next = listing(['a', { healthStatus: 'unhealthy' }], ['b', { connectionStatus: 'bad_credentials' }]);
      const first = planPoll(stored, next, NOW, ids());
      const again = planPoll(stored, next, NOW, ids());
      expect(again).toEqual(first);
      expect(first.notifications.map((n) => n.id)).toEqual(['int-1.lin.10.1']);
    });

    it('escape the integration id and change with the lineage', () => {
      const stored = storedAfter(listing(['a']), 1, 'lin');
      const next = listing(['a', { healthStatus: 'unhealthy' }]);
      expect(planPoll(stored, next, NOW, ids({ integrationId: 'a:b/c' })).notifications.map((n) => n.id)).toEqual(['a%3Ab%2Fc.lin.2.1']);
      expect(planPoll({ ...stored, lineage: 'other' }, next, NOW, ids()).notifications.map((n) => n.id)).toEqual(['int-1.other.2.1']);
    });
  });

  describe('when the alerts exceed one message', () => {
    it('splits them into numbered parts, each with its own id, naming every installation once', () => {
      const count = MAX_INSTALLATIONS_PER_MESSAGE * 2 + 5;
      const names = Array.from({ length: count }, (_, i) => `i${String(i).padStart(3, '0')}`);
      const stored = storedAfter(listing(...names.map((n): [string] => [n])), 2, 'lin');
      const plan = planPoll(stored, listing(...names.map((n): [string, Partial<InstallationState>] => [n, { healthStatus: 'unhealthy' }])), NOW, ids());
      expect(plan.notifications.map((n) => [n.id, n.notification.part, n.notification.parts])).toEqual([
        ['int-1.lin.3.1', 1, 3],
        ['int-1.lin.3.2', 2, 3],
        ['int-1.lin.3.3', 3, 3],
      ]);
      expect(plan.notifications.flatMap((n) => n.notification.items.map((it) => it.installationId))).toEqual(names);
      expect(plan.notifications.map((n) => n.notification.items.length)).toEqual([MAX_INSTALLATIONS_PER_MESSAGE, MAX_INSTALLATIONS_PER_MESSAGE, 5]);
    });

    it('keeps each message within the block-text budget when the names are long', () => {
      // Every value at its rendered limit and every field bad: far fewer installations than the count limit fill a message.
      const long = (c: string): Partial<InstallationState> => ({ groupRef: c.repeat(300), groupName: c.repeat(300), provider: c.repeat(300) });
      const names = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(300)}`);
      const stored = storedAfter(listing(...names.map((n): [string, Partial<InstallationState>] => [n, long('g')])));
      const bad = { healthStatus: 'unhealthy', lastOperationStatus: 'failure', connectionStatus: 'bad_credentials' };
      const plan = planPoll(stored, listing(...names.map((n): [string, Partial<InstallationState>] => [n, { ...long('g'), ...bad }])), NOW, ids());
      expect(plan.notifications.length).toBeGreaterThan(1);
      expect(plan.notifications.flatMap((n) => n.notification.items)).toHaveLength(60);
      for (const n of plan.notifications)
        expect(blockTextLength(renderSlackMessage(n.notification, n.id).blocks)).toBeLessThanOrEqual(MESSAGE_LIMITS.blockText);
    });
  });
});
