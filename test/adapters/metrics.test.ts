import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/adapters/metrics.js';
import { ALL_OK, type AlertState } from '../../src/core/alert-state.js';
import { encodeAlertStates } from '../../src/core/alert-states.js';
import { diffSnapshots } from '../../src/core/diff.js';
import type { InstallationState } from '../../src/core/installation.js';
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
