import { describe, expect, it } from 'vitest';
import { diffSnapshots } from '../../src/core/diff.js';
import type { InstallationState } from '../../src/core/installation.js';
import { buildStatusReport, type IntegrationState } from '../../src/core/status-report.js';
import { state } from '../helpers/builders.js';

const T0 = 1_700_000_000_000;

/** An integration as stored after a baseline at T0 and, optionally, a second poll at `later`. */
function integration(id: string, first: InstallationState[], second?: { list: InstallationState[]; at: number }): IntegrationState {
  const base = diffSnapshots(undefined, first, T0).next;
  const snapshot = second === undefined ? base : diffSnapshots(base, second.list, second.at).next;
  return { integrationId: id, projectId: 'proj-1', lastSuccessMs: second?.at ?? T0, snapshot };
}

describe('buildStatusReport', () => {
  const sales = integration('int-sales', [state('ok1'), state('ok2'), state('sick', { healthStatus: 'unhealthy' }), state('creds')], {
    list: [
      state('ok1'),
      state('ok2', { lastOperationStatus: 'in_progress' }),
      state('sick', { healthStatus: 'unhealthy' }),
      state('creds', { connectionStatus: 'bad_credentials', healthStatus: 'unhealthy' }),
    ],
    at: T0 + 60_000,
  });
  const hub = integration('int-hub', [state('h1', { lastOperationStatus: 'failure', provider: 'hubspot' }), state('h2', { provider: 'hubspot' })]);

  it('counts each integration by health, last operation and connection, sorted by id', () => {
    const report = buildStatusReport([sales, hub]);
    expect(report.integrations.map((i) => i.integrationId)).toEqual(['int-hub', 'int-sales']);
    const s = report.integrations[1];
    expect(s).toMatchObject({ total: 4, needingAttention: 2, readable: true, lastSuccessMs: T0 + 60_000 });
    expect({ ...s?.byHealth }).toEqual({ healthy: 2, unhealthy: 2 });
    expect({ ...s?.byLastOperation }).toEqual({ in_progress: 1, success: 3 });
    expect({ ...s?.byConnection }).toEqual({ bad_credentials: 1, working: 3 });
  });

  it('lists those needing attention worst first: most problems, then the longest standing', () => {
    const rows = buildStatusReport([sales, hub]).installations;
    expect(rows.map((r) => [r.installationId, r.problems])).toEqual([
      ['creds', ['health_status', 'connection_status']],
      // h1 and sick have one problem each, both since the baseline at T0: integration id decides.
      ['h1', ['last_operation_status']],
      ['sick', ['health_status']],
    ]);
    expect(rows[0]).toMatchObject({ groupRef: 'org-creds', groupName: 'Customer creds', since: { ms: T0 + 60_000, exact: true } });
    expect(rows[2]?.since).toEqual({ ms: T0, exact: false });
  });

  it('puts the longer-standing problem first when the counts are equal', () => {
    const later = integration('int-a', [state('new')], { list: [state('new', { healthStatus: 'unhealthy' })], at: T0 + 5_000 });
    const older = integration('int-b', [state('old', { healthStatus: 'unhealthy' })]);
    expect(buildStatusReport([later, older]).installations.map((r) => r.installationId)).toEqual(['old', 'new']);
  });

  it('keeps in_progress transparent: a failure still running again is still a failure', () => {
    const s = integration('int-x', [state('a', { lastOperationStatus: 'failure' })], {
      list: [state('a', { lastOperationStatus: 'in_progress' })],
      at: T0 + 1,
    });
    expect(buildStatusReport([s]).installations.map((r) => [r.installationId, r.lastOperationStatus, r.problems])).toEqual([
      ['a', 'in_progress', ['last_operation_status']],
    ]);
  });

  it('filters by integration, and lists every installation when asked', () => {
    const onlyHub = buildStatusReport([sales, hub], { integrationId: 'int-hub', all: true });
    expect(onlyHub.integrations.map((i) => i.integrationId)).toEqual(['int-hub']);
    expect(onlyHub.installations.map((r) => r.installationId)).toEqual(['h1', 'h2']);
    expect(buildStatusReport([sales, hub], { integrationId: 'nope' })).toEqual({ integrations: [], installations: [] });
  });

  it('shows an unreadable stored state as such, with nothing counted', () => {
    const report = buildStatusReport([{ integrationId: 'int-bad', projectId: 'p', lastSuccessMs: T0, snapshot: undefined }]);
    expect(report.integrations[0]).toMatchObject({ readable: false, total: 0, needingAttention: 0 });
    expect(report.installations).toEqual([]);
  });

  it('counts a status called __proto__ like any other', () => {
    const odd = integration('int-odd', [state('a', { healthStatus: '__proto__' })]);
    expect(buildStatusReport([odd]).integrations[0]?.byHealth['__proto__']).toBe(1);
  });
});
