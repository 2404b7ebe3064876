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
