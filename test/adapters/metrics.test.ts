import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/adapters/metrics.js';
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
