/**
 * When the monitor cannot read Ampersand: one Slack message, not one per
 * installation; /readyz says why but stays 200; ampersand_api_up is 0; one
 * message when it can read again.
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

describe('the upstream alert', () => {
  it('says once that the API key was refused, keeps /readyz 200, and says once that it recovered', async () => {
    await h.start(env);
    await waitFor('baselines', async () => (await h.redis.exists(`${h.prefix}:state:snap:int-1`, `${h.prefix}:state:snap:int-2`)) === 2);
    expect(sample(await h.metrics(), 'ampersand_api_up', { project_id: 'proj-1' })).toBe(1);

    h.ampersand.setStickyFault({ kind: 'status', status: 401 });
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the upstream message', () => h.texts().length === 1);
    expect(h.texts()[0]).toMatch(/^\[FIRING\] the monitor cannot read Ampersand project proj-1: unauthorized \(HTTP 401\)/);
    const ready = await h.get('/readyz');
    expect(ready.status).toBe(200);
    const { upstream } = JSON.parse(ready.body) as { upstream: { reason: string } };
    expect(upstream).toMatchObject({ state: 'configuration_error' });
    expect(upstream.reason).toContain('AMPERSAND_API_KEY');
    expect(sample(await h.metrics(), 'ampersand_api_up', { project_id: 'proj-1' })).toBe(0);
    const polls = h.ampersand.requests.length;
    await waitFor('more failing cycles', () => h.ampersand.requests.length >= polls + 6);
    expect(h.texts()).toHaveLength(1);

    h.ampersand.setStickyFault(undefined);
    await waitFor('the recovery and the held alert', () => h.texts().length === 3);
    expect(h.texts().filter((t) => t.startsWith('[RESOLVED] the monitor can read Ampersand'))).toHaveLength(1);
    expect(h.texts().filter((t) => t === '[FIRING:1] integration int-1: Salesforce installation unhealthy — Customer a (org-a)')).toHaveLength(1);
    expect(sample(await h.metrics(), 'ampersand_api_up', { project_id: 'proj-1' })).toBe(1);
  });

  it('sends one "upstream degraded" message after K failed cycles, and nothing per installation meanwhile', async () => {
    await h.start(env);
    await waitFor('baselines', async () => (await h.redis.exists(`${h.prefix}:state:snap:int-1`, `${h.prefix}:state:snap:int-2`)) === 2);
    h.ampersand.setStickyFault({ kind: 'status', status: 503 });
    h.ampersand.update('int-2', 'x', { lastOperationStatus: 'failure' });
    await waitFor('the degraded message', () => h.texts().length === 1, 20_000);
    expect(h.texts()[0]).toContain('upstream degraded: 3 consecutive poll cycles failed');
    const ready = JSON.parse((await h.get('/readyz')).body) as { upstream: { state: string; failedCycles: number } };
    expect(ready.upstream.state).toBe('degraded');
    const polls = h.ampersand.requests.length;
    await waitFor('more failing cycles', () => h.ampersand.requests.length >= polls + 8, 20_000);
    expect(h.texts()).toHaveLength(1);

    h.ampersand.setStickyFault(undefined);
    await waitFor('the recovery and the real alert', () => h.texts().length === 3);
    expect(h.texts().filter((t) => t.includes('[RESOLVED] the monitor can read Ampersand'))).toHaveLength(1);
    expect(h.texts().filter((t) => t === '[FIRING:1] integration int-2: Salesforce reads failing — Customer x (org-x)')).toHaveLength(1);
  });
});
