/**
 * Several projects from the monitor configuration file, end to end: the real
 * service, the fake Ampersand serving two projects, the fake Slack, real Redis.
 * One project refused with 401 gets one upstream alert naming it, while the
 * other keeps being polled and alerting with its own project id.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
let h: Harness;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahm-projects-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b')]);
  const inProjectTwo = (id: string) => installationSpec(id, { integrationId: 'int-2', projectId: 'proj-2', groupRef: `org-${id}` });
  h.ampersand.setIntegration('int-2', 'hubspot', [inProjectTwo('x'), inProjectTwo('y')], 'HubSpot contacts', 'proj-2');
});
afterEach(async () => {
  await h.stop();
});

/** proj-1 with its integration configured, proj-2 discovered. */
const monitorConfig = (): string => {
  const path = join(dir, `monitor-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, 'projects:\n  - id: proj-1\n    integrations: [int-1]\n  - id: proj-2\n');
  return path;
};

const snapshotsExist = async (): Promise<boolean> => (await h.redis.exists(`${h.prefix}:state:snap:int-1`, `${h.prefix}:state:snap:int-2`)) === 2;
/** The project each accepted Slack message names (the context line of every kind of message). */
const projectsNamed = (): string[] => h.slack.messages.map((m) => /[Pp]roject `([^`]+)`/.exec(JSON.stringify(m.body))?.[1] ?? '?');

describe.each(['integration', 'project'])('several projects, in %s list mode', (listMode) => {
  const env = () => ({ MONITOR_CONFIG: monitorConfig(), AMPERSAND_INTEGRATION_IDS: '', AMPERSAND_LIST_MODE: listMode, POLL_INTERVAL_SECONDS: '0.3' });

  it('polls each project with its own path, and one refused with 401 alerts once, naming it, while the other keeps alerting with its own id', async () => {
    await h.start(env());
    await waitFor('baselines of both projects', snapshotsExist);
    const paths = new Set(h.ampersand.requests.map((r) => r.path));
    if (listMode === 'project') {
      expect(paths).toContain('/v1/projects/proj-1/installations');
      expect(paths).toContain('/v1/projects/proj-2/installations');
      expect([...paths].filter((p) => p.endsWith('/installations') && p.includes('/integrations/'))).toEqual([]);
    } else {
      expect(paths).toContain('/v1/projects/proj-1/integrations/int-1/installations');
      expect(paths).toContain('/v1/projects/proj-2/integrations/int-2/installations');
    }
    const metrics = await h.metrics();
    expect(sample(metrics, 'ampersand_api_up', { project_id: 'proj-1' })).toBe(1);
    expect(sample(metrics, 'ampersand_api_up', { project_id: 'proj-2' })).toBe(1);
    expect(sample(metrics, 'ampersand_installations', { project_id: 'proj-2', integration_id: 'int-2' })).toBe(2);

    h.ampersand.setProjectFault('proj-2', { kind: 'status', status: 401, problem: { type: 'about:blank', title: 'Unauthorized', status: 401 } });
    await waitFor('the upstream alert of proj-2', () => h.texts().length === 1);
    expect(h.texts()[0]).toMatch(/^\[FIRING\] the monitor cannot read Ampersand project proj-2: unauthorized \(HTTP 401\)/);
    expect(projectsNamed()).toEqual(['proj-2']);

    // proj-1 is still polled, and alerts with its own project id.
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the alert of proj-1', () => h.texts().length === 2);
    expect(h.texts()[1]).toBe('[FIRING:1] integration int-1: Salesforce installation unhealthy — Customer a (org-a)');
    expect(projectsNamed()).toEqual(['proj-2', 'proj-1']);

    const after = await h.metrics();
    expect(sample(after, 'ampersand_api_up', { project_id: 'proj-1' })).toBe(1);
    expect(sample(after, 'ampersand_api_up', { project_id: 'proj-2' })).toBe(0);
    const ready = JSON.parse((await h.get('/readyz')).body) as { upstream: { state: string; projects: Record<string, { state: string }> } };
    expect(ready.upstream.state).toBe('configuration_error');
    expect(ready.upstream.projects['proj-1']?.state).toBe('ok');
    expect(ready.upstream.projects['proj-2']?.state).toBe('configuration_error');
    // The refused project's installations are not read as gone: its snapshot keeps them.
    expect(sample(after, 'ampersand_installations', { project_id: 'proj-2', integration_id: 'int-2' })).toBe(2);

    h.ampersand.setProjectFault('proj-2', undefined);
    await waitFor('the recovery of proj-2', () => h.texts().length === 3);
    expect(h.texts()[2]).toMatch(/^\[RESOLVED\] the monitor can read Ampersand project proj-2 again/);
    expect(projectsNamed()).toEqual(['proj-2', 'proj-1', 'proj-2']);
  });
});
