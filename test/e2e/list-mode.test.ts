/**
 * AMPERSAND_LIST_MODE=project gives the alerts AMPERSAND_LIST_MODE=integration
 * gives, for the same scenario: the real service, the fake Ampersand, the fake
 * Slack and real Redis, run once in each mode.
 */
import { describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

interface Run {
  readonly texts: string[];
  readonly requests: string[];
  readonly series: (number | undefined)[];
}

/** Baseline (one already unhealthy), two problems on two integrations, one recovery; an integration with no installation. */
async function scenario(listMode: string): Promise<Run> {
  const h = await createHarness();
  try {
    h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { healthStatus: 'unhealthy' })]);
    h.ampersand.setIntegration('int-2', 'hubspot', [installationSpec('x', { integrationId: 'int-2' }), installationSpec('y', { integrationId: 'int-2' })]);
    h.ampersand.setIntegration('int-3', 'zendesk', []);
    await h.start({ AMPERSAND_INTEGRATION_IDS: 'int-1,int-2,int-3', AMPERSAND_LIST_MODE: listMode, POLL_INTERVAL_SECONDS: '0.3' });
    const snapshots = ['int-1', 'int-2', 'int-3'].map((id) => `${h.prefix}:state:snap:${id}`);
    await waitFor('baselines', async () => (await h.redis.exists(...snapshots)) === 3);
    await waitFor('the baseline summary', () => h.texts().length === 1);

    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    h.ampersand.update('int-2', 'x', { lastOperationStatus: 'failure' });
    await waitFor('two alerts', () => h.texts().length === 3, 20_000);
    h.ampersand.update('int-1', 'b', { healthStatus: 'healthy' });
    await waitFor('the recovery', () => h.texts().length === 4, 20_000);
    // A few more cycles: nothing else is sent.
    const seen = h.ampersand.requests.length;
    await waitFor('more cycles', () => h.ampersand.requests.length >= seen + 6, 20_000);
    const metrics = await h.metrics();
    const series = ['int-1', 'int-2', 'int-3'].map((id) => sample(metrics, 'ampersand_installations', { project_id: 'proj-1', integration_id: id }));
    return { texts: h.texts(), requests: h.ampersand.requests.map((r) => r.path), series };
  } finally {
    await h.stop();
  }
}

describe('AMPERSAND_LIST_MODE', () => {
  it('project sends the alerts integration sends for the same scenario, with one call per project per cycle', async () => {
    const byIntegration = await scenario('integration');
    const byProject = await scenario('project');
    expect(byProject.texts[0]).toBe(byIntegration.texts[0]);
    // Within a cycle, the order of two integrations' messages is the order their commits came in.
    expect([...byProject.texts].sort()).toEqual([...byIntegration.texts].sort());
    expect(byIntegration.texts).toContain('[FIRING:1] integration int-1: Salesforce installation unhealthy — Customer a (org-a)');
    expect(byProject.series).toEqual(byIntegration.series);
    // The integration without installations is committed too (a series of 0, not none).
    expect(byProject.series[2]).toBe(0);

    const listings = (run: Run, path: RegExp): number => run.requests.filter((p) => path.test(p)).length;
    expect(listings(byProject, /\/integrations\/[^/]+\/installations$/)).toBe(0);
    expect(listings(byProject, /^\/v1\/projects\/proj-1\/installations$/)).toBeGreaterThan(3);
    expect(listings(byIntegration, /^\/v1\/projects\/proj-1\/installations$/)).toBe(0);
  });
});
