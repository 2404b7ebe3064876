import { describe, expect, it } from 'vitest';
import { ALL_OK, DEFAULT_ALERT_POLICY } from '../../src/core/alert-state.js';
import { encodeAlertStates, loadAlertStates, type AlertStates } from '../../src/core/alert-states.js';
import { MAX_INSTALLATIONS_PER_MESSAGE } from '../../src/core/notification.js';
import {
  completePollPlan,
  episodeInstallations,
  failureDetailsWanted,
  planPoll,
  type PollIds,
  type PollPlan,
  type PollPlanOptions,
  type StoredPollState,
} from '../../src/core/poll-plan.js';
import { UNREADABLE_VALUE, type InstallationState } from '../../src/core/installation.js';
import type { Episode } from '../../src/core/episodes.js';
import type { FailureDetails } from '../../src/core/operation.js';
import { MESSAGE_LIMITS, blockTextLength, renderSlackMessage } from '../../src/core/slack-message.js';
import type { Route } from '../../src/core/monitor-config.js';
import { state } from '../helpers/builders.js';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const MINUTE = 60_000;
const LATER = new Date(NOW.getTime() + MINUTE);
const at = (minutes: number): Date => new Date(NOW.getTime() + minutes * MINUTE);
/** Alerts on the first bad poll, for tests about what the notifications carry. */
const FIRST_POLL = { ...DEFAULT_ALERT_POLICY, alertAfterPolls: 1 };

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

/** The stored state a previous plan over `list` leaves (a baseline), under another version and lineage. */
function storedAfter(list: readonly InstallationState[], version = 4, lineage = 'old'): StoredPollState {
  const first = planPoll(undefined, list, NOW, ids());
  return { version, lineage, projectId: 'proj-1', snapshot: first.snapshot, ...(first.alertStates === undefined ? {} : { alertStates: first.alertStates }) };
}

/**
 * Polls planned one after the other, each from the state the one before
 * left (as the poll job commits it: alert states kept when a plan rewrites none).
 */
function run(start: StoredPollState | undefined) {
  let stored = start;
  return {
    poll(list: readonly InstallationState[], time: Date, options: PollPlanOptions = {}): PollPlan {
      const plan = planPoll(stored, list, time, ids(), options);
      const alertStates = plan.alertStates ?? stored?.alertStates;
      stored = {
        version: plan.version,
        lineage: plan.lineage,
        projectId: plan.projectId,
        snapshot: plan.snapshot,
        ...(alertStates === undefined ? {} : { alertStates }),
      };
      return plan;
    },
    /** The alert states stored now. */
    states(): AlertStates {
      return loadAlertStates(stored?.alertStates, stored?.snapshot ?? new Map(), NOW).states;
    },
    stored: (): StoredPollState | undefined => stored,
  };
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

  describe('when an installation turns bad', () => {
    const bad = listing(['a', { healthStatus: 'unhealthy' }], ['b']);

    it('plans its transition, its pending alert state and no notification on the first bad poll', () => {
      const made = ids();
      const r = run(storedAfter(listing(['a'], ['b'])));
      const plan = planPoll(r.stored(), bad, NOW, made);
      expect(plan.baseline).toBe(false);
      expect(plan.unreadable).toBeUndefined();
      expect(plan.lineage).toBe('old');
      expect(made.lineagesMade()).toBe(0);
      expect(plan.transitions).toEqual([{ installationId: 'a', field: 'health_status', from: 'healthy', to: 'unhealthy', groupRef: 'org-a' }]);
      expect(plan.alerts).toEqual([]);
      expect(plan.alertEvents).toEqual([]);
      expect(plan.notifications).toEqual([]);
      r.poll(bad, NOW);
      expect(r.states().get('a')?.unhealthy).toEqual({ status: 'pending', since: NOW.getTime(), badPolls: 1 });
      expect(plan.snapshot.get('a')?.healthStatus).toBe('unhealthy');
    });

    it('fires on the second bad poll: one digest on the stored lineage, with who, since when and how many', () => {
      const r = run(storedAfter(listing(['a'], ['b'])));
      r.poll(bad, NOW);
      const plan = r.poll(bad, LATER);
      expect(plan.transitions).toEqual([]);
      expect(plan.alertEvents).toEqual([
        { installationId: 'a', condition: 'unhealthy', event: { kind: 'fire', notify: true, deferred: false, since: NOW.getTime(), firedAt: LATER.getTime() } },
      ]);
      expect(plan.notifications).toEqual([
        {
          id: 'int-1.old.6.1',
          destination: 'default',
          enqueuedAt: LATER.getTime(),
          notification: {
            kind: 'alerts',
            projectId: 'proj-1',
            integrationId: 'int-1',
            detectedAt: LATER.toISOString(),
            installations: 2,
            firing: { unhealthy: 1, operation_failing: 0, bad_credentials: 0 },
            items: [
              {
                installationId: 'a',
                groupRef: 'org-a',
                groupName: 'Customer a',
                provider: 'salesforce',
                condition: 'unhealthy',
                event: 'fire',
                since: NOW.getTime(),
                firedAt: LATER.getTime(),
                consumerName: 'Jane Smith',
                consumerRef: 'user-a',
              },
            ],
            omitted: 0,
          },
        },
      ]);
      expect(plan.alertItems).toEqual(plan.notifications[0]?.notification.items);
      expect(r.states().get('a')?.unhealthy).toMatchObject({ status: 'firing', since: NOW.getTime(), firedAt: LATER.getTime() });
    });

    it('fires on the first bad poll with a threshold of 1, and names the integration when the cycle knew its name', () => {
      const plan = planPoll(storedAfter(listing(['a'])), listing(['a', { connectionStatus: 'bad_credentials' }]), NOW, ids(), {
        policy: FIRST_POLL,
        integrationName: 'Salesforce sync',
      });
      expect(plan.notifications[0]?.notification).toMatchObject({
        kind: 'alerts',
        integrationName: 'Salesforce sync',
        items: [{ installationId: 'a', condition: 'bad_credentials', event: 'fire' }],
      });
    });

    it('sends nothing for a flap: bad one poll, good the next', () => {
      const r = run(storedAfter(listing(['a'])));
      expect(r.poll(listing(['a', { healthStatus: 'unhealthy' }]), NOW).notifications).toEqual([]);
      const flapped = r.poll(listing(['a']), LATER);
      expect(flapped.alertEvents).toEqual([]);
      expect(flapped.notifications).toEqual([]);
      expect(r.states().size).toBe(0);
    });

    it('carries the paused reads and the consumer of the listing into the item', () => {
      const paused = listing(['a', { lastOperationStatus: 'failure', pausedReads: ['contacts', 'leads'], consumerName: 'Ann', consumerRef: 'u-9' }]);
      const plan = planPoll(storedAfter(listing(['a'])), paused, NOW, ids(), { policy: FIRST_POLL });
      expect(plan.alertItems).toEqual([
        expect.objectContaining({ condition: 'operation_failing', consumerName: 'Ann', consumerRef: 'u-9', pausedReads: ['contacts', 'leads'] }),
      ]);
    });

    it('keeps in_progress transparent: failure, in_progress fires as two bad polls would', () => {
      const r = run(storedAfter(listing(['a'])));
      r.poll(listing(['a', { lastOperationStatus: 'failure' }]), NOW);
      const p2 = r.poll(listing(['a', { lastOperationStatus: 'in_progress' }]), LATER);
      expect(p2.alertEvents).toEqual([expect.objectContaining({ condition: 'operation_failing', event: expect.objectContaining({ kind: 'fire' }) })]);
    });

    it('does not count a status it cannot read: an unreadable value is no observation', () => {
      const r = run(storedAfter(listing(['a'])));
      r.poll(listing(['a', { healthStatus: 'unhealthy' }]), NOW);
      const p2 = r.poll(listing(['a', { healthStatus: UNREADABLE_VALUE }]), LATER);
      expect(p2.alertEvents).toEqual([]);
      expect(p2.alertStates).toBeUndefined();
      expect(r.states().get('a')?.unhealthy).toMatchObject({ status: 'pending', badPolls: 1 });
    });
  });

  describe('when a firing condition recovers', () => {
    /** a firing since NOW (fired at LATER), b healthy. */
    const firing = (): ReturnType<typeof run> => {
      const r = run(storedAfter(listing(['a'], ['b'])));
      r.poll(listing(['a', { healthStatus: 'unhealthy' }], ['b']), NOW);
      r.poll(listing(['a', { healthStatus: 'unhealthy' }], ['b']), LATER);
      return r;
    };

    it('resolves after two good polls, ended at the first of them, and says how many fire now', () => {
      const r = firing();
      expect(r.poll(listing(['a'], ['b', { healthStatus: 'unhealthy' }]), at(10)).notifications).toEqual([]);
      const good2 = r.poll(listing(['a'], ['b', { healthStatus: 'unhealthy' }]), at(20));
      // b turned bad with a's first good poll and fires with its second: firings first.
      expect(good2.alertItems).toEqual([
        expect.objectContaining({ installationId: 'b', event: 'fire', since: at(10).getTime(), firedAt: at(20).getTime() }),
        expect.objectContaining({
          installationId: 'a',
          event: 'resolve',
          reason: 'recovered',
          since: NOW.getTime(),
          firedAt: LATER.getTime(),
          endedAt: at(10).getTime(),
        }),
      ]);
      expect(good2.notifications).toHaveLength(1);
      expect(good2.notifications[0]?.notification).toMatchObject({ firing: { unhealthy: 1 }, installations: 2 });
      expect(r.states().get('a')).toBeUndefined();
    });

    it('resolves as removed when the installation is no longer listed, named from the stored snapshot', () => {
      const r = firing();
      const gone = r.poll(listing(['b']), at(10));
      expect(gone.alertItems).toEqual([
        expect.objectContaining({
          installationId: 'a',
          groupRef: 'org-a',
          groupName: 'Customer a',
          provider: 'salesforce',
          event: 'resolve',
          reason: 'removed',
          endedAt: at(10).getTime(),
        }),
      ]);
      expect(gone.alertItems[0]).not.toHaveProperty('consumerName');
      expect(r.states().size).toBe(0);
    });

    it('reminds while it still fires, every remindIntervalMs', () => {
      const policy = { ...DEFAULT_ALERT_POLICY, remindIntervalMs: 30 * MINUTE };
      const bad = listing(['a', { healthStatus: 'unhealthy' }], ['b']);
      const r = firing();
      expect(r.poll(bad, at(20), { policy }).notifications).toEqual([]);
      const reminded = r.poll(bad, new Date(LATER.getTime() + 30 * MINUTE), { policy });
      expect(reminded.alertItems).toEqual([expect.objectContaining({ installationId: 'a', event: 'remind', since: NOW.getTime() })]);
      expect(reminded.notifications).toHaveLength(1);
      expect(r.poll(bad, at(40), { policy }).notifications).toEqual([]);
    });
  });

  describe('the alert states it commits', () => {
    it('are undefined when they are as stored, so nothing is rewritten', () => {
      const stored = storedAfter(listing(['a'], ['b', { healthStatus: 'unhealthy' }]));
      const plan = planPoll(stored, listing(['a'], ['b', { healthStatus: 'unhealthy' }]), LATER, ids());
      expect(plan.alertStates).toBeUndefined();
    });

    it('do not depend on the order of the listing', () => {
      const order = listing(['a', { healthStatus: 'unhealthy' }], ['b', { healthStatus: 'unhealthy' }]);
      const r = run(storedAfter(listing(['a'], ['b'])));
      const first = r.poll(order, NOW);
      expect(first.alertStates).toBe(encodeAlertStates(r.states()));
      const reversed = planPoll(r.stored(), [...order].reverse(), LATER, ids());
      const again = planPoll(r.stored(), order, LATER, ids());
      expect(reversed.alertStates).toBeDefined();
      expect(reversed.alertStates).toBe(again.alertStates);
    });

    it('start at a baseline from what it announced as bad', () => {
      const plan = planPoll(undefined, listing(['a'], ['b', { healthStatus: 'unhealthy' }]), NOW, ids());
      expect(plan.alertStatesOrigin.source).toBe('baseline');
      expect([...loadAlertStates(plan.alertStates, plan.snapshot, NOW).states]).toEqual([
        ['b', { ...ALL_OK, unhealthy: { status: 'firing', since: null, firedAt: NOW.getTime(), notifiedAt: NOW.getTime() } }],
      ]);
      expect(plan.digest.firing).toEqual({ unhealthy: 1, operation_failing: 0, bad_credentials: 0 });
    });
  });

  describe('upgrading from the release before, which stored no alert states', () => {
    // What that release left: a snapshot where b was already bad (and announced), and no alert states.
    const legacy = (): StoredPollState => {
      const { alertStates: _none, ...stored } = storedAfter(listing(['a'], ['b', { healthStatus: 'unhealthy' }]));
      return stored;
    };

    it('sends nothing again for what was already bad, and writes the upgraded states', () => {
      const r = run(legacy());
      const plan = r.poll(listing(['a'], ['b', { healthStatus: 'unhealthy' }]), LATER);
      expect(plan.alertStatesOrigin).toEqual({ source: 'upgraded', unreadableSlots: 0 });
      expect(plan.notifications).toEqual([]);
      expect(plan.alertStates).toBeDefined();
      expect(r.states().get('b')?.unhealthy).toMatchObject({ status: 'firing', since: null });
      expect(r.poll(listing(['a'], ['b', { healthStatus: 'unhealthy' }]), at(10)).notifications).toEqual([]);
    });

    it('still sends its recovery, with its start unknown', () => {
      const r = run(legacy());
      r.poll(listing(['a'], ['b']), at(10));
      const done = r.poll(listing(['a'], ['b']), at(20));
      expect(done.alertItems).toEqual([
        expect.objectContaining({ installationId: 'b', event: 'resolve', since: null, firedAt: at(10).getTime(), endedAt: at(10).getTime() }),
      ]);
    });

    it('reads unreadable stored states as an upgrade does, and says why', () => {
      const plan = planPoll({ ...legacy(), alertStates: 'not json' }, listing(['a'], ['b', { healthStatus: 'unhealthy' }]), LATER, ids());
      expect(plan.alertStatesOrigin).toEqual({ source: 'unreadable', reason: 'not JSON', unreadableSlots: 0 });
      expect(plan.notifications).toEqual([]);
    });
  });

  describe('failure details', () => {
    const details: FailureDetails = {
      operationId: 'op-1',
      actionType: 'read',
      result: '[account] Read failed',
      errorLines: ['INVALID_SESSION_ID'],
      omittedErrorLines: 0,
      time: NOW.toISOString(),
    };
    const firingAll = (): PollPlan =>
      planPoll(
        storedAfter(listing(['a'], ['b'])),
        listing(['a', { lastOperationStatus: 'failure', healthStatus: 'unhealthy' }], ['b', { lastOperationStatus: 'failure' }]),
        NOW,
        ids(),
        { policy: FIRST_POLL },
      );

    it('are wanted for each installation whose failing operation fires, once each', () => {
      expect(failureDetailsWanted(firingAll())).toEqual(['a', 'b']);
    });

    it('are attached only to the firing of a failing operation, and the digest is made again with them, under the same id', () => {
      const plan = firingAll();
      const done = completePollPlan(plan, { details: new Map([['a', details]]) }, NOW);
      expect(done.notifications.map((n) => n.id)).toEqual(plan.notifications.map((n) => n.id));
      expect(done.alertItems.map((i) => [i.installationId, i.condition, i.details?.operationId])).toEqual([
        ['a', 'unhealthy', undefined],
        ['a', 'operation_failing', 'op-1'],
        ['b', 'operation_failing', undefined],
      ]);
      expect(done.notifications[0]?.notification.items).toEqual(done.alertItems);
    });

    it('leave a plan without them as it is', () => {
      const plan = firingAll();
      expect(completePollPlan(plan, {}, NOW)).toEqual(plan);
    });
  });

  describe('the episode log', () => {
    it('lists the installations whose log a plan changes: a fire or a resolve, not a reminder', () => {
      const r = run(storedAfter(listing(['a'], ['b'], ['c', { healthStatus: 'unhealthy' }])));
      const plan = r.poll(listing(['a', { healthStatus: 'unhealthy' }], ['b'], ['c']), NOW, {
        policy: { alertAfterPolls: 1, resolveAfterPolls: 1, remindIntervalMs: 0 },
      });
      expect(episodeInstallations(plan)).toEqual(['a', 'c']);
    });

    it('records the events in the logs it is given, and counts this week on each firing', () => {
      const plan = planPoll(storedAfter(listing(['a'])), listing(['a', { healthStatus: 'unhealthy' }]), NOW, ids(), { policy: FIRST_POLL });
      const earlier: Episode = {
        condition: 'unhealthy',
        since: at(-120).getTime(),
        firedAt: at(-119).getTime(),
        endedAt: at(-60).getTime(),
        reason: 'recovered',
      };
      const done = completePollPlan(plan, { episodes: new Map([['a', [earlier]]]) }, NOW);
      expect(done.episodeLogs).toEqual(new Map([['a', [earlier, { condition: 'unhealthy', since: NOW.getTime(), firedAt: NOW.getTime() }]]]));
      expect(done.alertItems).toEqual([expect.objectContaining({ installationId: 'a', event: 'fire', episodesThisWeek: 2 })]);
      expect(done.notifications[0]?.notification.items).toEqual(done.alertItems);
    });

    it('writes no log and counts nothing when the logs were not read', () => {
      const plan = planPoll(storedAfter(listing(['a'])), listing(['a', { healthStatus: 'unhealthy' }]), NOW, ids(), { policy: FIRST_POLL });
      const done = completePollPlan(plan, {}, NOW);
      expect(done.episodeLogs.size).toBe(0);
      expect(done.alertItems[0]).not.toHaveProperty('episodesThisWeek');
    });
  });

  describe('the project id', () => {
    it.each<[string, string, string, string]>([
      ['the API names one', 'api-project', 'stored-project', 'api-project'],
      ['the API names none', '', 'stored-project', 'stored-project'],
      ['neither names one', '', '', 'configured-project'],
    ])('when %s is %s', (_, api, storedProject, expected) => {
      const stored: StoredPollState = { ...storedAfter(listing(['a'])), projectId: storedProject };
      const plan = planPoll(stored, listing(['a', { projectId: api, healthStatus: 'unhealthy' }]), NOW, ids(), { policy: FIRST_POLL });
      expect(plan.projectId).toBe(expected);
      expect(plan.notifications[0]?.notification.projectId).toBe(expected);
    });
  });

  describe('the notification ids', () => {
    it('are the same every time the same commit is planned', () => {
      const stored = storedAfter(listing(['a'], ['b']), 9, 'lin');
      const next = listing(['a', { healthStatus: 'unhealthy' }], ['b', { connectionStatus: 'bad_credentials' }]);
      const first = planPoll(stored, next, NOW, ids(), { policy: FIRST_POLL });
      const again = planPoll(stored, next, NOW, ids(), { policy: FIRST_POLL });
      expect(again).toEqual(first);
      expect(first.notifications.map((n) => n.id)).toEqual(['int-1.lin.10.1']);
    });

    it('escape the integration id and change with the lineage', () => {
      const stored = storedAfter(listing(['a']), 1, 'lin');
      const next = listing(['a', { healthStatus: 'unhealthy' }]);
      expect(planPoll(stored, next, NOW, ids({ integrationId: 'a:b/c' }), { policy: FIRST_POLL }).notifications.map((n) => n.id)).toEqual([
        'a%3Ab%2Fc.lin.2.1',
      ]);
      expect(planPoll({ ...stored, lineage: 'other' }, next, NOW, ids(), { policy: FIRST_POLL }).notifications.map((n) => n.id)).toEqual(['int-1.other.2.1']);
    });
  });

  describe('when a baseline finds more than one message can name', () => {
    const summaryOf = (plan: ReturnType<typeof planPoll>) => {
      const [only, ...rest] = plan.notifications;
      expect(rest).toEqual([]);
      const n = only?.notification;
      if (n?.kind !== 'baseline') throw new Error('expected a baseline summary');
      return { id: only?.id, n };
    };

    it('sends one summary, whatever the count: the worst named first, the rest counted', () => {
      const count = MAX_INSTALLATIONS_PER_MESSAGE * 2 + 5;
      const names = Array.from({ length: count }, (_, i) => `i${String(i).padStart(3, '0')}`);
      const plan = planPoll(undefined, listing(...names.map((n): [string, Partial<InstallationState>] => [n, { healthStatus: 'unhealthy' }])), NOW, ids());
      const { id, n } = summaryOf(plan);
      expect(id).toBe('int-1.new1.1.1');
      expect(n.summary).toMatchObject({ installations: count, fields: { health_status: count } });
      const shown = new Set(n.items.map((it) => it.installationId)).size;
      expect(shown).toBeGreaterThan(0);
      expect(shown + (n.summary?.omitted ?? 0)).toBe(count);
    });

    it('keeps that one message within the block-text budget when the names are long', () => {
      // Every value at its rendered limit and every field bad: far fewer installations than the count limit fill a message.
      const long = (c: string): Partial<InstallationState> => ({ groupRef: c.repeat(300), groupName: c.repeat(300), provider: c.repeat(300) });
      const names = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(300)}`);
      const bad = { healthStatus: 'unhealthy', lastOperationStatus: 'failure', connectionStatus: 'bad_credentials' };
      const plan = planPoll(undefined, listing(...names.map((n): [string, Partial<InstallationState>] => [n, { ...long('g'), ...bad }])), NOW, ids());
      const { id, n } = summaryOf(plan);
      expect(n.summary?.installations).toBe(20);
      expect(n.summary?.omitted).toBeGreaterThan(0);
      expect(blockTextLength(renderSlackMessage(n, id).blocks)).toBeLessThanOrEqual(MESSAGE_LIMITS.blockText);
    });
  });

  describe('with the mass-event thresholds of the configuration', () => {
    const four = listing(['a'], ['b'], ['c'], ['d']);
    const threeBad = listing(['a', { healthStatus: 'unhealthy' }], ['b', { healthStatus: 'unhealthy' }], ['c', { healthStatus: 'unhealthy' }], ['d']);

    it('makes one mass event of the flips when enough of the integration flip at once', () => {
      const plan = planPoll(storedAfter(four), threeBad, LATER, ids(), { policy: FIRST_POLL, massEvent: { minCount: 2, fraction: 0.5 } });
      const [only, ...rest] = plan.notifications;
      expect(rest).toEqual([]);
      const n = only?.notification;
      if (n?.kind !== 'alerts') throw new Error('expected an alerts digest');
      expect(n.mass?.map((m) => [m.event, m.installations])).toEqual([['fire', 3]]);
    });

    it('keeps the flips as events under the default thresholds (10 installations)', () => {
      const plan = planPoll(storedAfter(four), threeBad, LATER, ids(), { policy: FIRST_POLL });
      const n = plan.notifications[0]?.notification;
      if (n?.kind !== 'alerts') throw new Error('expected an alerts digest');
      expect(n.mass ?? []).toEqual([]);
      expect(n.items.map((i) => i.installationId)).toEqual(['a', 'b', 'c']);
    });
  });
});

describe('planPoll with routes', () => {
  const route = (name: string, match: Route['match'], mention?: string): Route => ({
    name,
    match,
    webhookUrl: 'https://hooks.slack.com/services/T0/B0/secret',
    webhookSource: `routes.${name}`,
    mention,
  });
  const routes = [route('acme', { groupRef: 'org-a' }, '<!here>'), route('hubspot', { provider: 'hubspot' })];
  const list = listing(['a'], ['b', { provider: 'hubspot' }], ['c'], ['d', { provider: 'hubspot', groupRef: 'org-a' }]);
  const bad = list.map((inst) => ({ ...inst, healthStatus: 'unhealthy' }));

  it('splits one poll into one digest per route, the first match winning, the rest on the default route, with ids in lane order', () => {
    const r = run(storedAfter(list));
    const plan = r.poll(bad, NOW, { policy: FIRST_POLL, routes });
    expect(plan.notifications.map((n) => [n.id, n.destination])).toEqual([
      ['int-1.old.5.1', 'default'],
      ['int-1.old.5.2', 'acme'],
      ['int-1.old.5.3', 'hubspot'],
    ]);
    const shown = plan.notifications.map((n) => (n.notification.kind === 'alerts' ? n.notification.items.map((i) => i.installationId) : []));
    // d is hubspot's provider but org-a's group: the route listed first (acme) takes it.
    expect(shown).toEqual([['c'], ['a', 'd'], ['b']]);
    expect(plan.notifications.map((n) => (n.notification.kind === 'alerts' ? n.notification.mention : 'none'))).toEqual([undefined, '<!here>', undefined]);
  });

  it('keeps the same ids and routes when the plan is completed with what the poll job looked up', () => {
    const r = run(storedAfter(list));
    const plan = r.poll(bad, NOW, { policy: FIRST_POLL, routes });
    const completed = completePollPlan(plan, { episodes: new Map() }, NOW);
    expect(completed.notifications.map((n) => [n.id, n.destination])).toEqual(plan.notifications.map((n) => [n.id, n.destination]));
  });

  it('sends a baseline summary per route', () => {
    const plan = planPoll(undefined, bad, NOW, ids(), { routes });
    expect(plan.notifications.map((n) => [n.id, n.destination, n.notification.kind])).toEqual([
      ['int-1.new1.1.1', 'default', 'baseline'],
      ['int-1.new1.1.2', 'acme', 'baseline'],
      ['int-1.new1.1.3', 'hubspot', 'baseline'],
    ]);
  });

  it('judges a mass event on the whole integration, and each route summarizes its share', () => {
    const many = Array.from({ length: 20 }, (_, i) => state(`m${i}`, { provider: i % 2 === 0 ? 'hubspot' : 'salesforce' }));
    const r = run(storedAfter(many));
    const plan = r.poll(
      many.map((inst) => ({ ...inst, healthStatus: 'unhealthy' })),
      NOW,
      { policy: FIRST_POLL, routes, massEvent: { minCount: 15, fraction: 0.5 } },
    );
    expect(plan.notifications.map((n) => [n.destination, n.notification.kind === 'alerts' ? n.notification.mass?.[0]?.installations : undefined])).toEqual([
      ['default', 10],
      ['hubspot', 10],
    ]);
  });
});
