import { describe, expect, it } from 'vitest';
import { decideAlerts } from '../../src/core/alert-policy.js';
import { diffSnapshots } from '../../src/core/diff.js';
import { UNREADABLE_VALUE as U, type InstallationState } from '../../src/core/installation.js';
import type { Snapshot } from '../../src/core/snapshot.js';
import { state } from '../helpers/builders.js';

const baseline = (list = [state('a'), state('b')]) => diffSnapshots(undefined, list).next;

describe('diffSnapshots', () => {
  describe('when there is no previous snapshot', () => {
    it('is a baseline with no transitions', () => {
      const diff = diffSnapshots(undefined, [state('a', { healthStatus: 'unhealthy' })]);
      expect(diff.baseline).toBe(true);
      expect(diff.transitions).toEqual([]);
      expect(diff.next.get('a')?.healthStatus).toBe('unhealthy');
    });
  });

  describe('when a field changes', () => {
    it.each([
      ['health_status', { healthStatus: 'unhealthy' }, 'healthy', 'unhealthy'],
      ['last_operation_status', { lastOperationStatus: 'failure' }, 'success', 'failure'],
      ['last_operation_status', { lastOperationStatus: 'in_progress' }, 'success', 'in_progress'],
      ['last_operation_status', { lastOperationStatus: 'unknown' }, 'success', 'unknown'],
      ['connection_status', { connectionStatus: 'bad_credentials' }, 'working', 'bad_credentials'],
      ['health_status', { healthStatus: 'degraded' }, 'healthy', 'degraded'],
    ] as const)('reports %s %s', (field, overrides, from, to) => {
      const diff = diffSnapshots(baseline(), [state('a', overrides), state('b')]);
      expect(diff.baseline).toBe(false);
      expect(diff.transitions).toEqual([{ installationId: 'a', field, from, to }]);
    });

    it('reports nothing when nothing changed', () => {
      expect(diffSnapshots(baseline(), [state('a'), state('b')]).transitions).toEqual([]);
    });
  });

  describe('when installations come and go', () => {
    it('reports a new installation from "none" on every field', () => {
      const diff = diffSnapshots(baseline(), [state('a'), state('b'), state('c', { healthStatus: 'unhealthy' })]);
      expect(diff.transitions).toEqual([
        { installationId: 'c', field: 'health_status', from: 'none', to: 'unhealthy' },
        { installationId: 'c', field: 'last_operation_status', from: 'none', to: 'success' },
        { installationId: 'c', field: 'connection_status', from: 'none', to: 'working' },
      ]);
    });

    it('reports a removed installation to "none" on every field', () => {
      const diff = diffSnapshots(baseline(), [state('a')]);
      expect(diff.transitions).toEqual([
        { installationId: 'b', field: 'health_status', from: 'healthy', to: 'none' },
        { installationId: 'b', field: 'last_operation_status', from: 'success', to: 'none' },
        { installationId: 'b', field: 'connection_status', from: 'working', to: 'none' },
      ]);
      expect([...diff.next.keys()]).toEqual(['a']);
    });
  });

  describe('the settled operation status', () => {
    it('survives in_progress and starts as unknown for a first in_progress', () => {
      const first = diffSnapshots(undefined, [state('a', { lastOperationStatus: 'in_progress' }), state('b', { lastOperationStatus: 'failure' })]);
      expect(first.next.get('a')?.settledOperationStatus).toBe('unknown');
      const second = diffSnapshots(first.next, [state('a', { lastOperationStatus: 'success' }), state('b', { lastOperationStatus: 'in_progress' })]);
      expect(second.next.get('a')?.settledOperationStatus).toBe('success');
      expect(second.next.get('b')?.settledOperationStatus).toBe('failure');
    });
  });

  describe('when a status cannot be read', () => {
    /** Polls installation `a` with each state in turn; returns the alerts of each poll after the baseline. */
    function alertsOf(sequence: readonly Partial<InstallationState>[]): string[][] {
      let snapshot: Snapshot | undefined;
      const out: string[][] = [];
      for (const overrides of sequence) {
        const diff = diffSnapshots(snapshot, [state('a', overrides)]);
        if (snapshot !== undefined) out.push(decideAlerts(diff).map((i) => `${i.severity} ${i.field} ${i.from}→${i.to}`));
        snapshot = diff.next;
      }
      return out;
    }

    it.each<[string, Partial<InstallationState>[], string[][]]>([
      [
        'unhealthy → unreadable → healthy resolves once',
        [{}, { healthStatus: 'unhealthy' }, { healthStatus: U }, { healthStatus: 'healthy' }],
        [['problem health_status healthy→unhealthy'], [], ['recovery health_status unhealthy→healthy']],
      ],
      [
        'unhealthy → unreadable → unhealthy fires once',
        [{}, { healthStatus: 'unhealthy' }, { healthStatus: U }, { healthStatus: 'unhealthy' }],
        [['problem health_status healthy→unhealthy'], [], []],
      ],
      [
        'bad_credentials → unreadable → working resolves once',
        [{}, { connectionStatus: 'bad_credentials' }, { connectionStatus: U }, { connectionStatus: 'working' }],
        [['problem connection_status working→bad_credentials'], [], ['recovery connection_status bad_credentials→working']],
      ],
      [
        'bad_credentials → unreadable → bad_credentials fires once',
        [{}, { connectionStatus: 'bad_credentials' }, { connectionStatus: U }, { connectionStatus: 'bad_credentials' }],
        [['problem connection_status working→bad_credentials'], [], []],
      ],
      [
        'failure → unreadable → success resolves once',
        [{}, { lastOperationStatus: 'failure' }, { lastOperationStatus: U }, { lastOperationStatus: 'success' }],
        [['problem last_operation_status success→failure'], [], ['recovery last_operation_status failure→success']],
      ],
      [
        'failure → unreadable → in_progress → failure fires once',
        [{}, { lastOperationStatus: 'failure' }, { lastOperationStatus: U }, { lastOperationStatus: 'in_progress' }, { lastOperationStatus: 'failure' }],
        [['problem last_operation_status success→failure'], [], [], []],
      ],
      [
        'healthy → unreadable → unhealthy fires once',
        [{}, { healthStatus: U }, { healthStatus: 'unhealthy' }],
        [[], ['problem health_status healthy→unhealthy']],
      ],
      [
        'unreadable for many polls keeps the open alert',
        [{ healthStatus: 'unhealthy' }, { healthStatus: U }, { healthStatus: U }, { healthStatus: U }, { healthStatus: 'healthy' }],
        [[], [], [], ['recovery health_status unhealthy→healthy']],
      ],
    ])('%s', (_name, sequence, expected) => {
      expect(alertsOf(sequence)).toEqual(expected);
    });

    it('keeps the stored value of that field, so it is neither stored nor diffed', () => {
      const before = diffSnapshots(undefined, [
        state('a', { healthStatus: 'unhealthy', lastOperationStatus: 'in_progress', connectionStatus: 'bad_credentials' }),
      ]).next;
      const diff = diffSnapshots(before, [state('a', { healthStatus: U, lastOperationStatus: U, connectionStatus: U, groupName: 'New name' })]);
      expect(diff.transitions).toEqual([]);
      expect(diff.next.get('a')).toEqual({ ...before.get('a'), groupName: 'New name' });
    });

    it('stays unreadable on a new installation and alerts nothing', () => {
      const diff = diffSnapshots(baseline(), [state('a'), state('b'), state('c', { healthStatus: U, lastOperationStatus: U, connectionStatus: U })]);
      expect(diff.next.get('c')).toMatchObject({ healthStatus: U, lastOperationStatus: U, settledOperationStatus: U, connectionStatus: U });
      expect(decideAlerts(diff)).toEqual([]);
    });
  });

  describe('since when an installation is in its state', () => {
    const T0 = 1_000_000;
    const first = () => diffSnapshots(undefined, [state('a'), state('b', { healthStatus: 'unhealthy' })], T0).next;

    it('is the first sighting (inexact) for a baseline', () => {
      expect(first().get('b')?.since).toEqual({ ms: T0, exact: false });
    });

    it('is kept while nothing changes, and restarts (exact) on a change', () => {
      const same = diffSnapshots(first(), [state('a'), state('b', { healthStatus: 'unhealthy' })], T0 + 60_000).next;
      expect(same.get('b')?.since).toEqual({ ms: T0, exact: false });
      const changed = diffSnapshots(same, [state('a', { connectionStatus: 'bad_credentials' }), state('b', { healthStatus: 'unhealthy' })], T0 + 120_000).next;
      expect(changed.get('a')?.since).toEqual({ ms: T0 + 120_000, exact: true });
      expect(changed.get('b')?.since).toEqual({ ms: T0, exact: false });
    });

    it('is exact for an installation that appeared since the last poll', () => {
      const next = diffSnapshots(first(), [state('a'), state('b', { healthStatus: 'unhealthy' }), state('c')], T0 + 60_000).next;
      expect(next.get('c')?.since).toEqual({ ms: T0 + 60_000, exact: true });
    });

    it('ignores in_progress, as alerting does', () => {
      const failing = diffSnapshots(first(), [state('a', { lastOperationStatus: 'failure' }), state('b', { healthStatus: 'unhealthy' })], T0 + 60_000).next;
      const running = diffSnapshots(
        failing,
        [state('a', { lastOperationStatus: 'in_progress' }), state('b', { healthStatus: 'unhealthy' })],
        T0 + 120_000,
      ).next;
      expect(running.get('a')?.since).toEqual({ ms: T0 + 60_000, exact: true });
    });

    it('starts as a first sighting for a record stored before since existed', () => {
      const stored = first().get('b');
      if (stored === undefined) throw new Error('b is in the baseline');
      const { healthStatus, lastOperationStatus, settledOperationStatus, connectionStatus, groupRef, groupName, provider } = stored;
      const withoutSince = { healthStatus, lastOperationStatus, settledOperationStatus, connectionStatus, groupRef, groupName, provider };
      const old: Snapshot = new Map([['b', withoutSince]]);
      const next = diffSnapshots(old, [state('b', { healthStatus: 'unhealthy' })], T0 + 60_000).next;
      expect(next.get('b')?.since).toEqual({ ms: T0 + 60_000, exact: false });
    });
  });
});
