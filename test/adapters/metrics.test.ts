import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/adapters/metrics.js';
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
    metrics.refreshFromState([stored('int-1', [state('a', { connectionStatus: 'bad_credentials' }), state('b')])]);
    const text = await registry.metrics();
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

  it('give a connection status the spec does not know a series of its own, and the unreadable one too', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    metrics.refreshFromState([stored('int-1', [state('a', { connectionStatus: 'suspended' }), state('b', { connectionStatus: UNREADABLE_VALUE })])]);
    const text = await registry.metrics();
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'a', status: 'suspended' })).toBe(1);
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'a', status: 'working' })).toBe(0);
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'b', status: UNREADABLE_VALUE })).toBe(1);
  });

  it('drop the connection series of an installation that is no longer stored', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    metrics.refreshFromState([stored('int-1', [state('a'), state('b', { connectionStatus: 'bad_credentials' })])]);
    expect(sample(await registry.metrics(), 'ampersand_installation_connection_status', { installation_id: 'b', status: 'bad_credentials' })).toBe(1);
    metrics.refreshFromState([stored('int-1', [state('a')])]);
    const text = await registry.metrics();
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'b' })).toBeUndefined();
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'a', status: 'working' })).toBe(1);
  });

  it('name the group of each installation in one info series, gone with the installation', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    metrics.refreshFromState([stored('int-1', [state('a', { groupName: 'Acme "EU" <Corp>' }), state('b')])]);
    let text = await registry.metrics();
    expect(sample(text, 'ampersand_installation_info', { ...labels, installation_id: 'a', group_name: 'Acme \\"EU\\" <Corp>' })).toBe(1);
    expect(sample(text, 'ampersand_installation_info', { installation_id: 'b', group_name: 'Customer b' })).toBe(1);
    expect(text.split('\n').filter((l) => l.startsWith('ampersand_installation_info{'))).toHaveLength(2);
    metrics.refreshFromState([stored('int-1', [state('a', { groupName: 'Acme' })])]);
    text = await registry.metrics();
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
    metrics.refreshFromState([stored('int-1', snapshotOf(state('a'), state('b')), states), stored('int-2', snapshotOf(state('x')))]);
    const text = await registry.metrics();
    const value = (integration_id: string, condition: string): number | undefined => sample(text, 'ampersand_alerts_firing', { integration_id, condition });
    expect([value('int-1', 'unhealthy'), value('int-1', 'operation_failing'), value('int-1', 'bad_credentials')]).toEqual([2, 1, 0]);
    expect([value('int-2', 'unhealthy'), value('int-2', 'operation_failing'), value('int-2', 'bad_credentials')]).toEqual([0, 0, 0]);

    // An integration that is gone loses its series; one without stored states (the release before) counts what is bad.
    metrics.refreshFromState([stored('int-2', snapshotOf(state('x', { connectionStatus: 'bad_credentials' })))]);
    const after = await registry.metrics();
    expect(sample(after, 'ampersand_alerts_firing', { integration_id: 'int-1', condition: 'unhealthy' })).toBeUndefined();
    expect(sample(after, 'ampersand_alerts_firing', { integration_id: 'int-2', condition: 'bad_credentials' })).toBe(1);
  });
});
