import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideAlerts } from '../../src/core/alert-policy.js';
import {
  ALL_OK,
  DEFAULT_ALERT_POLICY,
  OK,
  nextInstallationAlerts,
  readConditions,
  type AlertState,
  type InstallationAlerts,
} from '../../src/core/alert-state.js';
import { alertStatesFormatVersion, encodeAlertStates, initialAlertStates, loadAlertStates, type AlertStates } from '../../src/core/alert-states.js';
import { diffSnapshots } from '../../src/core/diff.js';
import type { InstallationState } from '../../src/core/installation.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from '../../src/core/snapshot.js';
import { state } from '../helpers/builders.js';

const NOW = new Date('2026-12-01T09:00:00Z');
const T = NOW.getTime();
const MINUTE = 60_000;
const CONDITIONS = ['unhealthy', 'operation_failing', 'bad_credentials'];

const firing = (since: number | null, firedAt: number, notifiedAt: number | null): AlertState => ({ status: 'firing', since, firedAt, notifiedAt });
const pending: AlertState = { status: 'pending', since: T - MINUTE, badPolls: 1 };
const resolving: AlertState = { status: 'resolving', since: null, firedAt: T - 9 * MINUTE, notifiedAt: T - 9 * MINUTE, goodSince: T - MINUTE, goodPolls: 1 };

const snapshotOf = (listing: InstallationState[]): Snapshot => diffSnapshots(undefined, listing).next;
const EMPTY: Snapshot = new Map();

describe('encodeAlertStates and loadAlertStates', () => {
  const states: AlertStates = new Map<string, InstallationAlerts>([
    ['a', { unhealthy: firing(T - 5 * MINUTE, T - 4 * MINUTE, null), operation_failing: OK, bad_credentials: pending }],
    ['b', { ...ALL_OK, operation_failing: resolving }],
    ['__proto__', { ...ALL_OK, bad_credentials: firing(null, T, T) }],
  ]);

  it('round-trip the states of every status', () => {
    expect(loadAlertStates(encodeAlertStates(states), EMPTY, NOW)).toEqual({ states, source: 'stored', unreadableSlots: 0 });
  });

  it('write the format version, the condition names once, and one slot per condition, null for ok', () => {
    expect(JSON.parse(encodeAlertStates(states))).toEqual({
      v: 1,
      conditions: CONDITIONS,
      installations: {
        a: [['firing', T - 5 * MINUTE, T - 4 * MINUTE, null], null, ['pending', T - MINUTE, 1]],
        b: [null, ['resolving', null, T - 9 * MINUTE, T - 9 * MINUTE, T - MINUTE, 1], null],
        ['__proto__']: [null, null, ['firing', null, T, T]],
      },
    });
    expect(alertStatesFormatVersion).toBe(1);
  });

  it('leave out installations whose conditions are all ok, so the usual state is small', () => {
    const mostlyOk = new Map<string, InstallationAlerts>([
      ['ok-1', ALL_OK],
      ['ok-2', ALL_OK],
      ['bad', { ...ALL_OK, unhealthy: pending }],
    ]);
    expect(Object.keys((JSON.parse(encodeAlertStates(mostlyOk)) as { installations: object }).installations)).toEqual(['bad']);
    expect(loadAlertStates(encodeAlertStates(mostlyOk), EMPTY, NOW).states).toEqual(new Map([['bad', { ...ALL_OK, unhealthy: pending }]]));
  });

  describe('when the states were written by a later release', () => {
    const row = [['firing', T, T, T], null, ['pending', T, 2]];
    const expected = new Map([['a', { unhealthy: firing(T, T, T), operation_failing: OK, bad_credentials: { status: 'pending', since: T, badPolls: 2 } }]]);

    it('ignores a condition it does not know, wherever its name sits', () => {
      const raw = JSON.stringify({ v: 1, conditions: ['added_later', ...CONDITIONS], installations: { a: [['whatever', 1, { x: 1 }], ...row] } });
      expect(loadAlertStates(raw, EMPTY, NOW)).toEqual({ states: expected, source: 'stored', unreadableSlots: 0 });
    });

    it('ignores values appended to a slot, and fields it does not know', () => {
      const raw = JSON.stringify({
        v: 1,
        conditions: CONDITIONS,
        installations: { a: [['firing', T, T, T, 'appended'], null, ['pending', T, 2, { later: true }]] },
        addedLater: { x: 1 },
      });
      expect(loadAlertStates(raw, EMPTY, NOW)).toEqual({ states: expected, source: 'stored', unreadableSlots: 0 });
    });
  });

  describe('when a slot cannot be read', () => {
    // "a" is unhealthy in the snapshot: a slot that cannot be read is taken from it, as an upgrade would.
    const snapshot = snapshotOf([state('a', { healthStatus: 'unhealthy' }), state('b')]);

    it.each<[string, unknown]>([
      ['an unknown status', ['acknowledged', T]],
      ['a time that is not a number', ['firing', T, 'yesterday', T]],
      ['a negative count', ['pending', T, -1]],
      ['a count of zero', ['pending', T, 0]],
      ['a missing value', ['resolving', T, T, T, T]],
      ['a string for ok', 'ok'],
    ])('takes that condition from the snapshot for %s', (_name, slot) => {
      const raw = JSON.stringify({ v: 1, conditions: CONDITIONS, installations: { a: [slot, null, ['pending', T, 1]], b: [slot, null, null] } });
      const loaded = loadAlertStates(raw, snapshot, NOW);
      expect(loaded.source).toBe('stored');
      expect(loaded.unreadableSlots).toBe(2);
      expect(loaded.states).toEqual(
        new Map([['a', { unhealthy: firing(null, T, T), operation_failing: OK, bad_credentials: { status: 'pending', since: T, badPolls: 1 } }]]),
      );
    });

    it('takes every condition of an installation from the snapshot when its row is not a list of the right length', () => {
      const raw = JSON.stringify({ v: 1, conditions: CONDITIONS, installations: { a: [null, null] } });
      expect(loadAlertStates(raw, snapshot, NOW)).toEqual({
        states: new Map([['a', { ...ALL_OK, unhealthy: firing(null, T, T) }]]),
        source: 'stored',
        unreadableSlots: 3,
      });
    });
  });

  describe('when the states cannot be read at all', () => {
    const snapshot = snapshotOf([state('a', { connectionStatus: 'bad_credentials' }), state('b')]);
    const fromSnapshot = new Map([['a', { ...ALL_OK, bad_credentials: firing(null, T, T) }]]);

    it.each<[string, string, string]>([
      ['not JSON', '{', 'not JSON'],
      ['a list', '[]', 'not a JSON object'],
      ['an unknown future version', JSON.stringify({ v: 2, conditions: CONDITIONS, installations: {} }), 'unknown format version 2'],
      ['no version', JSON.stringify({ conditions: CONDITIONS, installations: {} }), 'unknown format version null'],
      ['no condition list', JSON.stringify({ v: 1, installations: {} }), 'no list of condition names'],
      ['a condition this release needs missing', JSON.stringify({ v: 1, conditions: CONDITIONS.slice(1), installations: {} }), 'no condition unhealthy'],
      ['installations that are a list', JSON.stringify({ v: 1, conditions: CONDITIONS, installations: [] }), 'no installations object'],
    ])('takes them all from the snapshot for %s, and says why', (_name, raw, reason) => {
      expect(loadAlertStates(raw, snapshot, NOW)).toEqual({ states: fromSnapshot, source: 'unreadable', reason, unreadableSlots: 0 });
    });
  });
});

describe('the upgrade from the release before (a snapshot and no alert states)', () => {
  /** Polls each listing of `polls` after the upgrade, one minute apart, and returns the events of each poll, and what today's policy would alert. */
  function pollAfterUpgrade(stored: Snapshot, polls: InstallationState[][]): { events: string[][]; today: string[][] } {
    const loaded = loadAlertStates(undefined, stored, NOW);
    expect(loaded.source).toBe('upgraded');
    let states = loaded.states;
    let snapshot = stored;
    const events: string[][] = [];
    const today: string[][] = [];
    polls.forEach((listing, i) => {
      const diff = diffSnapshots(snapshot, listing);
      today.push(decideAlerts(diff).map((a) => `${a.severity} ${a.installationId} ${a.field}`));
      const next = new Map<string, InstallationAlerts>();
      const pollEvents: string[] = [];
      for (const listed of listing) {
        const record = diff.next.get(listed.id);
        if (record === undefined) throw new Error('no record');
        const step = nextInstallationAlerts(states.get(listed.id), readConditions(record, listed), new Date(T + (i + 1) * MINUTE), DEFAULT_ALERT_POLICY, false);
        next.set(listed.id, step.alerts);
        for (const { condition, event } of step.events) pollEvents.push(`${event.kind}${event.notify ? '' : '(unsent)'} ${listed.id} ${condition}`);
      }
      events.push(pollEvents);
      states = next;
      snapshot = diff.next;
    });
    return { events, today };
  }

  describe('from the v1 snapshot of test/fixtures/state-v1.json (the release before the versioned formats)', () => {
    const dump = JSON.parse(readFileSync(new URL('../fixtures/state-v1.json', import.meta.url), 'utf8')) as { key: string; type: string; value: unknown }[];
    const hash = dump.find((k) => k.key.endsWith(':state:snap:int-1'))?.value as Record<string, string>;
    const stored = decodeSnapshot(hash['d'] ?? '');
    if (stored === undefined) throw new Error('the fixture snapshot cannot be read');
    // The listing the fixture was generated with (generate-state-v1.ts): a and b unhealthy, c without an operation.
    const listing = [state('a', { healthStatus: 'unhealthy' }), state('b', { healthStatus: 'unhealthy' }), state('c', { lastOperationStatus: 'unknown' })];

    it('starts what the snapshot shows bad as firing, as already announced, since an unknown time', () => {
      expect(initialAlertStates(stored, NOW)).toEqual(
        new Map([
          ['a', { ...ALL_OK, unhealthy: firing(null, T, T) }],
          ['b', { ...ALL_OK, unhealthy: firing(null, T, T) }],
        ]),
      );
    });

    it('sends no second firing for the same listing, and the recovery of each', () => {
      const recovered = [state('a'), state('b', { healthStatus: 'unhealthy' }), state('c', { lastOperationStatus: 'unknown' })];
      const { events, today } = pollAfterUpgrade(stored, [listing, listing, recovered, recovered]);
      expect(events).toEqual([[], [], [], ['resolve a unhealthy']]);
      // Today's policy agrees on what is open: nothing new, and a's recovery.
      expect(today).toEqual([[], [], ['recovery a health_status'], []]);
    });
  });

  describe('from a v2 snapshot (the current format)', () => {
    const listing = [
      state('ok'),
      state('unhealthy', { healthStatus: 'unhealthy' }),
      state('failing', { lastOperationStatus: 'failure' }),
      state('creds', { connectionStatus: 'bad_credentials' }),
      state('new', { lastOperationStatus: 'unknown' }),
      state('odd', { healthStatus: 'degraded' }),
    ];
    // The failing one's next run is in progress: the settled failure is what was announced.
    const before = diffSnapshots(
      snapshotOf(listing),
      listing.map((s) => (s.id === 'failing' ? { ...s, lastOperationStatus: 'in_progress' } : s)),
    ).next;
    const stored = decodeSnapshot(encodeSnapshot(before));
    if (stored === undefined) throw new Error('unreadable');

    it('starts each bad condition as firing, and nothing for a value the spec does not know', () => {
      expect(initialAlertStates(stored, NOW)).toEqual(
        new Map([
          ['unhealthy', { ...ALL_OK, unhealthy: firing(null, T, T) }],
          ['failing', { ...ALL_OK, operation_failing: firing(null, T, T) }],
          ['creds', { ...ALL_OK, bad_credentials: firing(null, T, T) }],
        ]),
      );
    });

    it('sends no second firing, and each recovery after RESOLVE_AFTER_POLLS good polls', () => {
      const healthy = listing.map((s) => state(s.id, { lastOperationStatus: s.lastOperationStatus === 'unknown' ? 'unknown' : 'success' }));
      const { events } = pollAfterUpgrade(stored, [listing, listing, healthy, healthy]);
      expect(events).toEqual([[], [], [], ['resolve unhealthy unhealthy', 'resolve failing operation_failing', 'resolve creds bad_credentials']]);
    });

    it('reminds of what is still firing one interval after the upgrade', () => {
      const polls = Array.from({ length: 240 }, () => listing);
      const { events } = pollAfterUpgrade(stored, polls);
      expect(events.findIndex((e) => e.length > 0)).toBe(239);
      expect(events[239]).toEqual(['remind unhealthy unhealthy', 'remind failing operation_failing', 'remind creds bad_credentials']);
    });
  });
});
