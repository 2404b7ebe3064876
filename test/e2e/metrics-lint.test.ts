/**
 * `promtool check metrics` must have nothing to say about /metrics. The test
 * fills every metric family first (transitions, errors, Slack outcomes) so the
 * linter sees real series, not just HELP lines.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
// .ci/run installs promtool; in CI its absence is a failure, not a skip.
if (!hasPromtool && process.env['CI'] !== undefined) throw new Error('promtool is missing in CI: .ci/run should have installed it (Debian package prometheus)');
if (!hasPromtool) console.warn('promtool not found (Debian package prometheus): the metrics lint is skipped');

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { healthStatus: 'degraded' })]);
});
afterEach(async () => {
  await h.stop();
});

describe('/metrics', () => {
  it.skipIf(!hasPromtool)('passes promtool check metrics with no findings', async () => {
    await h.start();
    await waitFor('the baseline', async () => (await h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v')) !== null);
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    h.ampersand.inject('int-1', { kind: 'status', status: 404 });
    await waitFor('a transition and an error', async () => {
      const text = await h.metrics();
      return (
        sample(text, 'ampersand_installation_transitions_total', { to: 'unhealthy' }) === 1 &&
        (sample(text, 'ampersand_poll_errors_total', { reason: 'not_found' }) ?? 0) >= 1
      );
    });
    const text = await h.metrics();
    // An unknown enum value is never hidden, and never a label value of its own: status="other".
    expect(sample(text, 'ampersand_installation_health_status', { installation_id: 'b', status: 'other' })).toBe(1);
    expect(text).not.toContain('degraded');
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });
});
