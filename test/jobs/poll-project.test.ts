/**
 * The project poll (AMPERSAND_LIST_MODE=project) on in-memory stores and a
 * scripted client: one listing call, each integration committed as its own
 * poll would be, and a failed listing failing every integration of the project.
 */
import { describe, expect, it } from 'vitest';
import { createPollIntegration, type PollOutcome } from '../../jobs/poll-integration.js';
import { createPollProject } from '../../jobs/poll-project.js';
import { DEFAULT_ALERT_POLICY } from '../../src/core/alert-state.js';
import { AmpersandApiError } from '../../src/core/errors/ampersand-api-error.js';
import { buildInstallation, type InstallationSpec } from '../../src/simulator/fixtures.js';
import { createEventLog } from '../fakes/event-log.js';
import { createFakeAmpersandClient, fakeProjects, type FakeAmpersandClient } from '../fakes/fake-ampersand-client.js';
import { createFixedClock } from '../fakes/fixed-clock.js';
import { createInMemoryStores } from '../fakes/in-memory-stores.js';
import { createRecordingDeliveryQueue } from '../fakes/recording-delivery-queue.js';
import { createRecordingMetrics } from '../fakes/recording-metrics.js';
import { createRecordingObserver } from '../fakes/recording-observer.js';
import { installationSpec } from '../helpers/builders.js';
import { captureLogs } from '../helpers/logger.js';

const specs = (integrationId: string, ...ids: string[]): InstallationSpec[] => ids.map((id) => installationSpec(id, { integrationId }));

function setup() {
  const stores = createInMemoryStores();
  const events = createEventLog();
  const client = createFakeAmpersandClient();
  const metrics = createRecordingMetrics();
  const observer = createRecordingObserver(events);
  const clock = createFixedClock();
  let lineage = 0;
  const ampersand = fakeProjects<FakeAmpersandClient>({ 'proj-1': client });
  const pollIntegration = createPollIntegration({
    ampersand,
    snapshots: stores.snapshots,
    outbox: stores.outbox,
    metrics,
    logger: captureLogs().logger,
    projectId: 'proj-1',
    observer,
    delivery: createRecordingDeliveryQueue(events),
    now: clock.now,
    newLineage: () => `L${(lineage += 1)}`,
    policy: DEFAULT_ALERT_POLICY,
    failureDetails: { fetch: () => Promise.resolve(undefined) },
  });
  const pollProject = createPollProject({ ampersand, pollIntegration, logger: captureLogs().logger, concurrency: 2 });
  const integrations = [{ id: 'A', name: 'Salesforce' }, { id: 'B' }, { id: 'C' }];
  const run = (cycleId = 'c1') => pollProject({ projectId: 'proj-1', cycleId, integrations }, 'job-1');
  return { stores, client, metrics, observer, clock, run, pollIntegration };
}

describe('pollProject', () => {
  it('reads the project once and commits each integration its own part, an empty one for an integration without installations', async () => {
    const t = setup();
    t.client.scriptProjectInstallations({ body: [...specs('A', 'a1', 'a2'), ...specs('X', 'x1'), ...specs('B', 'b1')].map(buildInstallation) });
    expect(await t.run()).toEqual({ status: 'polled', listed: 4, outcomes: { A: 'committed', B: 'committed', C: 'committed' } });
    expect(t.client.calls).toEqual(['project installations']);
    expect([...((await t.stores.snapshots.load('A'))?.snapshot?.keys() ?? [])]).toEqual(['a1', 'a2']);
    expect([...((await t.stores.snapshots.load('B'))?.snapshot?.keys() ?? [])]).toEqual(['b1']);
    expect((await t.stores.snapshots.load('C'))?.snapshot?.size).toBe(0);
    expect(await t.stores.snapshots.load('X')).toBeUndefined();
    expect([...t.observer.calls].sort()).toEqual(['ok A', 'ok B', 'ok C']);
  });

  it('commits what the integration poll would have committed from its own listing', async () => {
    const project = setup();
    const own = setup();
    const a = [installationSpec('a1', { integrationId: 'A', healthStatus: 'unhealthy' }), installationSpec('a2', { integrationId: 'A' })];
    project.client.scriptProjectInstallations({ body: a.map(buildInstallation) });
    own.client.scriptInstallations('A', { body: a.map(buildInstallation) });
    await project.run();
    const ownOutcome: PollOutcome = await own.pollIntegration(
      { integrationId: 'A', projectId: 'proj-1', cycleId: 'c1', integrationName: 'Salesforce' },
      'job-1',
    );
    expect(ownOutcome.status).toBe('committed');
    const [fromProject, fromOwn] = [await project.stores.snapshots.load('A'), await own.stores.snapshots.load('A')];
    expect(fromProject?.snapshot).toEqual(fromOwn?.snapshot);
    expect((await project.stores.outbox.head())?.entry?.notification).toEqual((await own.stores.outbox.head())?.entry?.notification);
  });

  it.each([
    ['the call fails', { error: new AmpersandApiError('bad gateway', 'server_error', 502) }, 'server_error'],
    ['the body cannot be split', { body: [{ id: 'a1' }] }, 'invalid_body'],
    ['the client throws a bug of its own', { error: new TypeError('cannot read properties of undefined') }, 'internal_error'],
  ])('fails every integration of the project when %s, and commits nothing', async (_name, answer, reason) => {
    const t = setup();
    t.client.scriptProjectInstallations({ body: specs('A', 'a1').map(buildInstallation) });
    await t.run('c1');
    t.client.scriptProjectInstallations(answer);
    expect(await t.run('c2')).toEqual({ status: 'polled', listed: 0, outcomes: { A: 'failed', B: 'failed', C: 'failed' } });
    expect([...((await t.stores.snapshots.load('A'))?.snapshot?.keys() ?? [])]).toEqual(['a1']);
    expect((await t.stores.snapshots.load('A'))?.version).toBe(1);
    expect(t.metrics.pollErrors().sort()).toEqual([`A ${reason}`, `B ${reason}`, `C ${reason}`]);
    expect([...t.observer.calls.slice(3)].sort()).toEqual([`failed A ${reason}`, `failed B ${reason}`, `failed C ${reason}`]);
  });

  it('drops the poll of a project that is no longer watched, reading and counting nothing', async () => {
    const t = setup();
    const pollProject = createPollProject({ ampersand: fakeProjects({}), pollIntegration: t.pollIntegration, logger: captureLogs().logger });
    expect(await pollProject({ projectId: 'gone', cycleId: 'c1', integrations: [{ id: 'A' }] }, 'job-1')).toEqual({
      status: 'skipped',
      reason: 'project_not_watched',
    });
    expect(t.client.calls).toEqual([]);
    expect(t.observer.calls).toEqual([]);
  });
});
