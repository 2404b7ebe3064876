import { describe, expect, it } from 'vitest';
import { decideAlerts, summarizeBaseline } from '../../src/core/alert-policy.js';
import { diffSnapshots } from '../../src/core/diff.js';
import type { InstallationState } from '../../src/core/installation.js';
import type { Snapshot } from '../../src/core/snapshot.js';
import { state } from '../helpers/builders.js';

/** Runs a sequence of polls of one installation and returns the alerts of each poll after the first. */
function run(steps: Partial<InstallationState>[]): string[][] {
  let snap: Snapshot | undefined;
  const out: string[][] = [];
  for (const [i, overrides] of steps.entries()) {
    const diff = diffSnapshots(snap, [state('a', overrides)]);
    if (i > 0) out.push(decideAlerts(diff).map((a) => `${a.severity} ${a.field} ${a.from}->${a.to}`));
    snap = diff.next;
  }
  return out;
}

describe('decideAlerts', () => {
  it('sends nothing at a baseline', () => {
    expect(decideAlerts(diffSnapshots(undefined, [state('a', { healthStatus: 'unhealthy' })]))).toEqual([]);
  });

  describe.each<[string, Partial<InstallationState>[], string[][]]>([
    ['healthy → unhealthy', [{}, { healthStatus: 'unhealthy' }], [['problem health_status healthy->unhealthy']]],
    ['unhealthy → healthy', [{ healthStatus: 'unhealthy' }, {}], [['recovery health_status unhealthy->healthy']]],
    ['healthy → an unknown value', [{}, { healthStatus: 'degraded' }], [[]]],
    ['unhealthy → an unknown value', [{ healthStatus: 'unhealthy' }, { healthStatus: 'degraded' }], [[]]],
    ['success → failure', [{}, { lastOperationStatus: 'failure' }], [['problem last_operation_status success->failure']]],
    ['unknown → failure', [{ lastOperationStatus: 'unknown' }, { lastOperationStatus: 'failure' }], [['problem last_operation_status unknown->failure']]],
    ['failure → success', [{ lastOperationStatus: 'failure' }, {}], [['recovery last_operation_status failure->success']]],
    ['success → in_progress → success', [{}, { lastOperationStatus: 'in_progress' }, {}], [[], []]],
    [
      'failure → in_progress → success',
      [{ lastOperationStatus: 'failure' }, { lastOperationStatus: 'in_progress' }, {}],
      [[], ['recovery last_operation_status failure->success']],
    ],
    [
      'success → in_progress → failure',
      [{}, { lastOperationStatus: 'in_progress' }, { lastOperationStatus: 'failure' }],
      [[], ['problem last_operation_status success->failure']],
    ],
    [
      'failure → in_progress → failure',
      [{ lastOperationStatus: 'failure' }, { lastOperationStatus: 'in_progress' }, { lastOperationStatus: 'failure' }],
      [[], []],
    ],
    ['working → bad_credentials', [{}, { connectionStatus: 'bad_credentials' }], [['problem connection_status working->bad_credentials']]],
    [
      'bad_credentials → created',
      [{ connectionStatus: 'bad_credentials' }, { connectionStatus: 'created' }],
      [['recovery connection_status bad_credentials->created']],
    ],
    ['created → working', [{ connectionStatus: 'created' }, {}], [[]]],
    [
      'everything breaking at once',
      [{}, { healthStatus: 'unhealthy', lastOperationStatus: 'failure', connectionStatus: 'bad_credentials' }],
      [['problem health_status healthy->unhealthy', 'problem last_operation_status success->failure', 'problem connection_status working->bad_credentials']],
    ],
  ])('when an installation goes %s', (_name, steps, expected) => {
    it('alerts as the policy says', () => {
      expect(run(steps)).toEqual(expected);
    });
  });

  describe('when installations are added or removed', () => {
    const before = diffSnapshots(undefined, [state('a'), state('bad', { healthStatus: 'unhealthy', connectionStatus: 'bad_credentials' })]).next;

    it('alerts on a new installation that arrives unhealthy or failing, and not on a healthy one', () => {
      const diff = diffSnapshots(before, [
        state('a'),
        state('bad', { healthStatus: 'unhealthy', connectionStatus: 'bad_credentials' }),
        state('new-ok'),
        state('new-bad', { lastOperationStatus: 'failure' }),
      ]);
      expect(decideAlerts(diff)).toEqual([
        expect.objectContaining({
          severity: 'problem',
          change: 'added',
          installationId: 'new-bad',
          field: 'last_operation_status',
          from: 'none',
          to: 'failure',
        }),
      ]);
    });

    it('resolves the open problems of a removed installation', () => {
      const diff = diffSnapshots(before, [state('a')]);
      expect(decideAlerts(diff).map((a) => `${a.severity} ${a.change} ${a.installationId} ${a.field} ${a.from}->${a.to}`)).toEqual([
        'recovery removed bad health_status unhealthy->none',
        'recovery removed bad connection_status bad_credentials->none',
      ]);
    });
  });
});

describe('summarizeBaseline', () => {
  it('lists what is already bad at the first poll', () => {
    const diff = diffSnapshots(undefined, [state('a'), state('b', { healthStatus: 'unhealthy' }), state('c', { lastOperationStatus: 'failure' })]);
    expect(summarizeBaseline(diff).map((a) => `${a.installationId} ${a.field} ${a.to}`)).toEqual([
      'b health_status unhealthy',
      'c last_operation_status failure',
    ]);
  });

  it('is empty after the baseline', () => {
    const first = diffSnapshots(undefined, [state('b', { healthStatus: 'unhealthy' })]);
    expect(summarizeBaseline(diffSnapshots(first.next, [state('b', { healthStatus: 'unhealthy' })]))).toEqual([]);
  });
});
