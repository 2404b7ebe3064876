import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, type ServiceMetrics } from '../../src/adapters/metrics.js';
import { ALL_OK, type AlertState } from '../../src/core/alert-state.js';
import { encodeAlertStates } from '../../src/core/alert-states.js';
import { diffSnapshots } from '../../src/core/diff.js';
import { CONNECTION_STATUSES, UNREADABLE_VALUE, type InstallationState } from '../../src/core/installation.js';
import type { Snapshot } from '../../src/core/snapshot.js';
import type { StoredSnapshot } from '../../src/ports.js';
import { state } from '../helpers/builders.js';
import { sample } from '../helpers/harness.js';

const status = (overrides: { up?: boolean; lastSuccessMs?: number; deadLetters?: number } = {}) => ({
  up: overrides.up,
  reason: undefined,
  downSinceMs: undefined,
  lastSuccessMs: overrides.lastSuccessMs,
  deadLetters: overrides.deadLetters ?? 0,
});

describe('the Slack webhook gauges', () => {
  it('are absent until a delivery ran, then 0 while paused and 1 after recovery, labelled with the webhook host', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    metrics.setSlackStatus(status(), 'hooks.slack.com');
    const before = await registry.metrics();
    // Not even a 0: an alert on `ampersand_slack_up == 0` must not fire on a fresh deploy.
    expect(before).not.toMatch(/^ampersand_slack_up[ {]/m);
    expect(before).not.toMatch(/^ampersand_slack_last_success_timestamp_seconds[ {]/m);
    expect(sample(before, 'ampersand_slack_dead_letter_messages', {})).toBe(0);

    metrics.setSlackStatus(status({ up: false, deadLetters: 7 }), 'hooks.slack.com');
    const down = await registry.metrics();
    expect(sample(down, 'ampersand_slack_up', { target: 'hooks.slack.com' })).toBe(0);
    // Set from the shared count, not left at its first value.
    expect(sample(down, 'ampersand_slack_dead_letter_messages', {})).toBe(7);
    expect(down).not.toMatch(/^ampersand_slack_last_success_timestamp_seconds[ {]/m);

    metrics.setSlackStatus(status({ up: true, lastSuccessMs: 1_700_000_000_000 }), 'hooks.slack.com');
    const up = await registry.metrics();
    expect(sample(up, 'ampersand_slack_up', { target: 'hooks.slack.com' })).toBe(1);
    expect(sample(up, 'ampersand_slack_last_success_timestamp_seconds', { target: 'hooks.slack.com' })).toBe(1_700_000_000);
    expect(up.match(/^ampersand_slack_up[ {]/gm)).toHaveLength(1);
  });
});

let tokens = 0;
/** Every stored integration as loadChanged reads it the first time: each one changed. */
const refresh = (metrics: ServiceMetrics, list: StoredSnapshot[]): Promise<void> =>
  metrics.refreshFromState(
    list.map((changed) => ({
      integrationId: changed.integrationId,
      projectId: changed.projectId,
      lastSuccessMs: changed.lastSuccessMs,
      token: `t${++tokens}`,
      changed,
    })),
  );
/** The whole /metrics text: the registry's, then the per-installation families. */
const render = async (registry: Registry, metrics: ServiceMetrics): Promise<string> =>
  (await registry.metrics()) + Buffer.concat(metrics.exposition()).toString();

const stored = (integrationId: string, installations: InstallationState[]): StoredSnapshot => ({
  integrationId,
  version: 1,
  lineage: 'l',
  projectId: 'proj-1',
  lastSuccessMs: 1_700_000_000_000,
  snapshot: diffSnapshots(undefined, installations).next,
});

describe('the installation state gauges', () => {
  const labels = { project_id: 'proj-1', integration_id: 'int-1', group_ref: 'org-a', provider: 'salesforce' };

  it('export the connection status one-hot over the spec values, with the labels of the health status', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    await refresh(metrics, [stored('int-1', [state('a', { connectionStatus: 'bad_credentials' }), state('b')])]);
    const text = await render(registry, metrics);
    const a = { ...labels, installation_id: 'a' };
    expect(sample(text, 'ampersand_installation_connection_status', { ...a, status: 'bad_credentials' })).toBe(1);
    expect(sample(text, 'ampersand_installation_connection_status', { ...a, status: 'working' })).toBe(0);
    expect(sample(text, 'ampersand_installation_connection_status', { ...a, status: 'created' })).toBe(0);
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'b', status: 'working' })).toBe(1);
    // One series per spec value and installation, labelled as ampersand_installation_health_status is.
    const series = text.split('\n').filter((l) => l.startsWith('ampersand_installation_connection_status{'));
    expect(series).toHaveLength(2 * CONNECTION_STATUSES.length);
    const labelNames = (line: string): string[] => [...line.matchAll(/([a-z_]+)="/g)].map((m) => m[1] ?? '');
    const health = text.split('\n').find((l) => l.startsWith('ampersand_installation_health_status{')) ?? '';
    expect(labelNames(series[0] ?? '')).toEqual(labelNames(health));
  });

  it('give a connection status the spec does not know, and the unreadable one, the one series status="other"', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    await refresh(metrics, [stored('int-1', [state('a', { connectionStatus: 'suspended' }), state('b', { connectionStatus: UNREADABLE_VALUE })])]);
    const text = await render(registry, metrics);
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'a', status: 'other' })).toBe(1);
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'a', status: 'working' })).toBe(0);
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'b', status: 'other' })).toBe(1);
    // The value itself is never a label: the API cannot add series by inventing values.
    expect(text).not.toContain('suspended');
    expect(text).not.toContain(UNREADABLE_VALUE);
    expect(sample(text, 'ampersand_installations_by_connection_status', { integration_id: 'int-1', status: 'other' })).toBe(2);
  });

  it('drop the connection series of an installation that is no longer stored', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    await refresh(metrics, [stored('int-1', [state('a'), state('b', { connectionStatus: 'bad_credentials' })])]);
    expect(sample(await render(registry, metrics), 'ampersand_installation_connection_status', { installation_id: 'b', status: 'bad_credentials' })).toBe(1);
    await refresh(metrics, [stored('int-1', [state('a')])]);
    const text = await render(registry, metrics);
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'b' })).toBeUndefined();
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'a', status: 'working' })).toBe(1);
  });

  it('name the group of each installation in one info series, gone with the installation', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    await refresh(metrics, [stored('int-1', [state('a', { groupName: 'Acme "EU" <Corp>' }), state('b')])]);
    let text = await render(registry, metrics);
    expect(sample(text, 'ampersand_installation_info', { ...labels, installation_id: 'a', group_name: 'Acme \\"EU\\" <Corp>' })).toBe(1);
    expect(sample(text, 'ampersand_installation_info', { installation_id: 'b', group_name: 'Customer b' })).toBe(1);
    expect(text.split('\n').filter((l) => l.startsWith('ampersand_installation_info{'))).toHaveLength(2);
    await refresh(metrics, [stored('int-1', [state('a', { groupName: 'Acme' })])]);
    text = await render(registry, metrics);
    expect(sample(text, 'ampersand_installation_info', { installation_id: 'b' })).toBeUndefined();
    expect(text.split('\n').filter((l) => l.startsWith('ampersand_installation_info{'))).toEqual([
      'ampersand_installation_info{project_id="proj-1",integration_id="int-1",installation_id="a",group_ref="org-a",provider="salesforce",group_name="Acme"} 1',
    ]);
  });
});

describe('the build_info gauge', () => {
  it('is one series of value 1 labelled with the version, the revision and the Node.js version', async () => {
    const registry = new Registry();
    createMetrics(registry, { defaultMetrics: false, build: { version: '1.2.3', revision: '0a1b2c3', nodejs: 'v24.21.0' } });
    const text = await registry.metrics();
    expect(text.match(/^ampersand_health_monitor_build_info[{ ].*$/gm)).toEqual([
      'ampersand_health_monitor_build_info{version="1.2.3",revision="0a1b2c3",nodejs="v24.21.0"} 1',
    ]);
    expect(text).toContain('# TYPE ampersand_health_monitor_build_info gauge');
  });

  it('is absent when no build is given', async () => {
    const registry = new Registry();
    createMetrics(registry, { defaultMetrics: false });
    expect(await registry.metrics()).not.toContain('ampersand_health_monitor_build_info');
  });
});

describe('the outbox series', () => {
  it('label the waiting messages with their route, and set the dropped total from the shared count', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    metrics.setOutboxSize(12);
    metrics.setOutboxDropped(0);
    const before = await registry.metrics();
    expect(before).toMatch(/^ampersand_slack_outbox_messages\{route="default"\} 12$/m);
    expect(before).toMatch(/^# TYPE ampersand_slack_outbox_dropped_total counter$/m);
    expect(sample(before, 'ampersand_slack_outbox_dropped_total', {})).toBe(0);
    metrics.setOutboxDropped(37);
    metrics.setOutboxDropped(40);
    expect(sample(await registry.metrics(), 'ampersand_slack_outbox_dropped_total', {})).toBe(40);
  });
});

describe('ampersand_alerts_firing', () => {
  const firing = (since: number | null): AlertState => ({ status: 'firing', since, firedAt: 1, notifiedAt: 1 });
  const resolving: AlertState = { status: 'resolving', since: 1, firedAt: 2, notifiedAt: 2, goodSince: 3, goodPolls: 1 };
  const pending: AlertState = { status: 'pending', since: 1, badPolls: 1 };
  const snapshotOf = (...list: InstallationState[]): Snapshot => diffSnapshots(undefined, list).next;
  const stored = (integrationId: string, snapshot: Snapshot, alertStates?: string): StoredSnapshot => ({
    integrationId,
    version: 1,
    lineage: 'L',
    projectId: 'proj-1',
    lastSuccessMs: 1_000,
    snapshot,
    ...(alertStates === undefined ? {} : { alertStates }),
  });

  it('counts the open alerts per condition from the stored states (firing or resolving, not pending), with every condition of every integration', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    const states = encodeAlertStates(
      new Map([
        ['a', { ...ALL_OK, unhealthy: firing(1), bad_credentials: pending }],
        ['b', { ...ALL_OK, unhealthy: resolving, operation_failing: firing(null) }],
      ]),
    );
    await refresh(metrics, [stored('int-1', snapshotOf(state('a'), state('b')), states), stored('int-2', snapshotOf(state('x')))]);
    const text = await render(registry, metrics);
    const value = (integration_id: string, condition: string): number | undefined => sample(text, 'ampersand_alerts_firing', { integration_id, condition });
    expect([value('int-1', 'unhealthy'), value('int-1', 'operation_failing'), value('int-1', 'bad_credentials')]).toEqual([2, 1, 0]);
    expect([value('int-2', 'unhealthy'), value('int-2', 'operation_failing'), value('int-2', 'bad_credentials')]).toEqual([0, 0, 0]);

    // An integration that is gone loses its series; one without stored states (the release before) counts what is bad.
    await refresh(metrics, [stored('int-2', snapshotOf(state('x', { connectionStatus: 'bad_credentials' })))]);
    const after = await render(registry, metrics);
    expect(sample(after, 'ampersand_alerts_firing', { integration_id: 'int-1', condition: 'unhealthy' })).toBeUndefined();
    expect(sample(after, 'ampersand_alerts_firing', { integration_id: 'int-2', condition: 'bad_credentials' })).toBe(1);
  });
});

describe('METRICS_INSTALLATION_SERIES', () => {
  const list = [
    state('ok'),
    state('sick', { healthStatus: 'unhealthy' }),
    state('busy', { lastOperationStatus: 'in_progress' }),
    state('odd', { connectionStatus: 'weird' }),
  ];
  const lines = (text: string, name: string): string[] => text.split('\n').filter((l) => l.startsWith(`${name}{`));

  it('all: every installation has its series', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false, installationSeries: 'all' });
    await refresh(metrics, [stored('int-1', list)]);
    const text = await render(registry, metrics);
    expect(lines(text, 'ampersand_installation_info')).toHaveLength(4);
  });

  it('unhealthy: only the installations that are not quiet have series, and the counts cover all of them', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false, installationSeries: 'unhealthy' });
    await refresh(metrics, [stored('int-1', list)]);
    const text = await render(registry, metrics);
    expect(lines(text, 'ampersand_installation_info').map((l) => /installation_id="([^"]+)"/.exec(l)?.[1])).toEqual(['sick', 'odd']);
    expect(sample(text, 'ampersand_installation_health_status', { installation_id: 'sick', status: 'unhealthy' })).toBe(1);
    expect(sample(text, 'ampersand_installations', { integration_id: 'int-1', health_status: 'healthy' })).toBe(3);
    expect(sample(text, 'ampersand_installations_by_last_operation_status', { integration_id: 'int-1', status: 'in_progress' })).toBe(1);
    expect(sample(text, 'ampersand_installations_by_connection_status', { integration_id: 'int-1', status: 'working' })).toBe(3);
    expect(sample(text, 'ampersand_installations_by_connection_status', { integration_id: 'int-1', status: 'other' })).toBe(1);
  });

  it('none: no per-installation series, only the aggregates', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false, installationSeries: 'none' });
    await refresh(metrics, [stored('int-1', list)]);
    const text = await render(registry, metrics);
    for (const name of [
      'ampersand_installation_health_status',
      'ampersand_installation_last_operation_status',
      'ampersand_installation_connection_status',
      'ampersand_installation_info',
    ]) {
      expect(lines(text, name)).toEqual([]);
    }
    expect(sample(text, 'ampersand_installations', { integration_id: 'int-1', health_status: 'unhealthy' })).toBe(1);
    expect(sample(text, 'ampersand_alerts_firing', { integration_id: 'int-1', condition: 'unhealthy' })).toBe(1);
  });
});

describe('refreshFromState', () => {
  it('keeps the series of an integration whose token did not change without its state being read again', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    const first = stored('int-1', [state('a', { healthStatus: 'unhealthy' })]);
    await metrics.refreshFromState([{ integrationId: 'int-1', projectId: 'proj-1', lastSuccessMs: 1000, token: 'T1', changed: first }]);
    expect(metrics.stateTokens()).toEqual(new Map([['int-1', 'T1']]));
    await metrics.refreshFromState([{ integrationId: 'int-1', projectId: 'proj-1', lastSuccessMs: 9000, token: 'T1', changed: undefined }]);
    const text = await render(registry, metrics);
    expect(sample(text, 'ampersand_installation_health_status', { installation_id: 'a', status: 'unhealthy' })).toBe(1);
    expect(sample(text, 'ampersand_installations', { integration_id: 'int-1', health_status: 'unhealthy' })).toBe(1);
    // The poll time comes with every reading, changed or not.
    expect(sample(text, 'ampersand_last_successful_poll_timestamp_seconds', { integration_id: 'int-1' })).toBe(9);
  });

  it('drops the counters and histograms of an integration that left the stored state, and keeps the others', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    for (const id of ['int-1', 'int-2']) {
      metrics.observePoll('proj-1', id, 0.2);
      metrics.recordPollError('proj-1', id, 'timeout');
      metrics.recordTransitions('proj-1', id, [{ installationId: 'a', field: 'health_status', from: 'healthy', to: 'unhealthy' }]);
      metrics.recordStateUnreadable('proj-1', id);
    }
    await refresh(metrics, [stored('int-1', [state('a')]), stored('int-2', [state('a')])]);
    await refresh(metrics, [stored('int-2', [state('a')])]);
    const text = await render(registry, metrics);
    for (const name of [
      'ampersand_poll_duration_seconds_count',
      'ampersand_poll_errors_total',
      'ampersand_installation_transitions_total',
      'ampersand_state_unreadable_total',
    ]) {
      expect(sample(text, name, { integration_id: 'int-1' }), name).toBeUndefined();
      expect(sample(text, name, { integration_id: 'int-2' }), name).toBeGreaterThanOrEqual(1);
    }
    expect(text).not.toContain('integration_id="int-1"');
  });

  it('keeps the counters of an integration never stored (a poll that keeps failing, say)', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    metrics.recordPollError('proj-1', 'int-9', 'unauthorized');
    await refresh(metrics, []);
    await refresh(metrics, []);
    expect(sample(await render(registry, metrics), 'ampersand_poll_errors_total', { integration_id: 'int-9', reason: 'unauthorized' })).toBe(1);
  });
});
