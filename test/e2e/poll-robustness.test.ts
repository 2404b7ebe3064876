/**
 * What one integration's state or data can do to the service: a corrupt stored
 * value is re-baselined (not frozen), an exception counts as a failed poll,
 * an integration that cannot be read while the others can gets its own alert,
 * and each committed transition leaves one log line.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b')]);
  h.ampersand.setIntegration('int-2', 'hubspot', [installationSpec('x', { integrationId: 'int-2' })]);
});
afterEach(async () => {
  await h.stop();
});

const env = { AMPERSAND_INTEGRATION_IDS: 'int-1,int-2', POLL_INTERVAL_SECONDS: '0.3', UPSTREAM_DEGRADED_AFTER_CYCLES: '3' };
const snapKey = (id: string): string => `${h.prefix}:state:snap:${id}`;
const baselines = async (): Promise<void> => waitFor('baselines', async () => (await h.redis.exists(snapKey('int-1'), snapKey('int-2'))) === 2);

describe('a corrupt stored snapshot version', () => {
  it('is re-baselined, logged at error and counted, instead of freezing the integration', async () => {
    const { logs } = await h.start(env);
    await baselines();
    await h.redis.hset(snapKey('int-1'), 'v', 'NaN');
    await waitFor('the new baseline', async () => (await h.redis.hget(snapKey('int-1'), 'v')) === '1', 10_000);
    const line = logs.lines().find((l) => String(l['msg']).includes('stored state of int-1 is unreadable'));
    expect(line).toMatchObject({ integrationId: 'int-1' });
    // pino's number or its name, whichever the logger is set to print.
    expect([50, 'error']).toContain(line?.['level']);
    expect(sample(await h.metrics(), 'ampersand_state_unreadable_total', { integration_id: 'int-1' })).toBeGreaterThanOrEqual(1);
    // Not frozen: the next change alerts.
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the alert after the re-baseline', () => h.texts().some((t) => t.includes('a (group "Customer a" org-a, salesforce) health_status healthy → unhealthy')));
  });
});
