/**
 * The cycle job with in-memory stores, a scripted Ampersand client, recording
 * poll and delivery queues and observer, and a fixed clock: which integrations
 * it polls, what it forgets, that a pending head is handed to delivery first,
 * and how discovery and internal failures are counted.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_POLICY } from '../../src/core/alert-state.js';
import { createPollIntegration } from '../../jobs/poll-integration.js';
import { CYCLE_LABEL, DISCOVERY_LABEL, createRunCycle } from '../../jobs/run-cycle.js';
import { AmpersandApiError } from '../../src/core/errors/ampersand-api-error.js';
import type { Outbox, SnapshotStore } from '../../src/ports.js';
import { buildInstallation } from '../../src/simulator/fixtures.js';
import { createEventLog } from '../fakes/event-log.js';
import type { ProjectConfig } from '../../src/core/monitor-config.js';
import { createFakeAmpersandClient, fakeProjects, type FakeAmpersandClient } from '../fakes/fake-ampersand-client.js';
import { createFixedClock, type FixedClock } from '../fakes/fixed-clock.js';
import { createInMemoryStores, type InMemoryStores } from '../fakes/in-memory-stores.js';
import { createRecordingDeliveryQueue } from '../fakes/recording-delivery-queue.js';
import { createRecordingMetrics } from '../fakes/recording-metrics.js';
import { createRecordingObserver } from '../fakes/recording-observer.js';
import { createRecordingPollQueue } from '../fakes/recording-poll-queue.js';
import { installationSpec } from '../helpers/builders.js';
import { captureLogs } from '../helpers/logger.js';

const FORGET_AFTER_MS = 60_000;

function setup(
  options: {
    integrationIds?: readonly string[];
    snapshots?: Partial<SnapshotStore>;
    outbox?: Partial<Outbox>;
    projects?: readonly ProjectConfig[];
    clients?: Readonly<Record<string, FakeAmpersandClient>>;
    listMode?: 'integration' | 'project';
    lanes?: readonly string[];
  } = {},
) {
  const stores = createInMemoryStores();
  const events = createEventLog();
  const ampersand = createFakeAmpersandClient();
  const metrics = createRecordingMetrics();
  const observer = createRecordingObserver(events);
  const delivery = createRecordingDeliveryQueue(events);
  const polls = createRecordingPollQueue(events);
  const clock = createFixedClock();
  const logs = captureLogs();
  const runCycle = createRunCycle({
    ampersand: fakeProjects(options.clients ?? { 'proj-1': ampersand }),
    snapshots: { ...stores.snapshots, ...options.snapshots },
    outbox: { ...stores.outbox, ...options.outbox },
    metrics,
    observer,
    logger: logs.logger,
    projects: options.projects ?? [{ id: 'proj-1', integrationIds: options.integrationIds, groupRef: undefined }],
    ...(options.listMode === undefined ? {} : { listMode: options.listMode }),
    ...(options.lanes === undefined ? {} : { lanes: options.lanes.map((name) => ({ name, outbox: stores.lane(name) })) }),
    polls,
    delivery,
    forgetAfterMs: FORGET_AFTER_MS,
    now: clock.now,
  });
  return { stores, events, ampersand, metrics, observer, delivery, polls, clock, logs, run: (cycleId = 'c1') => runCycle(cycleId, 'job-1') };
}

/** Commits a snapshot of `integrationId` at the clock's time through the poll job, with one unhealthy installation (so one outbox entry). */
async function seed(stores: InMemoryStores, clock: FixedClock, integrationId: string): Promise<void> {
  const ampersand = createFakeAmpersandClient();
  ampersand.scriptInstallations(integrationId, { body: [buildInstallation(installationSpec('a', { integrationId, healthStatus: 'unhealthy' }))] });
  const poll = createPollIntegration({
    ampersand: fakeProjects({ 'proj-1': ampersand }),
    snapshots: stores.snapshots,
    outbox: stores.outbox,
    metrics: createRecordingMetrics(),
    logger: captureLogs().logger,
    projectId: 'proj-1',
    observer: createRecordingObserver(),
    delivery: createRecordingDeliveryQueue(),
    now: clock.now,
    newLineage: () => `L-${integrationId}`,
    policy: DEFAULT_ALERT_POLICY,
    failureDetails: { fetch: () => Promise.resolve(undefined) },
  });
  expect(await poll({ integrationId, cycleId: 'seed' }, 'seed')).toMatchObject({ status: 'committed' });
}

describe('runCycle', () => {
  describe('with configured integrations', () => {
    it('queues one poll per integration, in order, each with its name, and tells the observer the list', async () => {
      const t = setup({ integrationIds: ['A', 'B'] });
      t.ampersand.scriptIntegrations({
        body: [
          { id: 'B', name: 'HubSpot contacts' },
          { id: 'A', name: 'Salesforce sync' },
          { id: 'Z', name: 'Not configured' },
        ],
      });
      expect(await t.run('c7')).toEqual({ status: 'queued', integrations: ['A', 'B'], notQueued: 0 });
      expect(t.polls.enqueued).toEqual(['A c7 "Salesforce sync"', 'B c7 "HubSpot contacts"']);
      expect(t.ampersand.calls).toEqual(['integrations']);
      expect(t.events.events).toEqual(['enqueue A,B', 'listed A,B']);
      expect(t.delivery.kicked).toEqual([]);
      expect(t.metrics.calls).toEqual([]);
    });

    it.each<[string, () => { error: Error } | { body: unknown }]>([
      ['fails', () => ({ error: new AmpersandApiError('bad gateway', 'server_error', 502) })],
      ['is not a list', () => ({ body: { nope: true } })],
    ])('polls them without names when the list of names %s, and counts no error', async (_name, answer) => {
      const t = setup({ integrationIds: ['A', 'B'] });
      t.ampersand.scriptIntegrations(answer());
      expect(await t.run('c7')).toEqual({ status: 'queued', integrations: ['A', 'B'], notQueued: 0 });
      expect(t.polls.enqueued).toEqual(['A c7', 'B c7']);
      expect(t.metrics.calls).toEqual([]);
      expect(t.observer.calls).toEqual(['listed A,B']);
    });
  });

  describe('with discovery', () => {
    it('polls the integrations the API lists, each with the name the same list gives it', async () => {
      const t = setup();
      t.ampersand.scriptIntegrations({ body: [{ id: 'A', name: 'Salesforce sync' }, { id: 'C' }] });
      expect(await t.run()).toEqual({ status: 'queued', integrations: ['A', 'C'], notQueued: 0 });
      expect(t.ampersand.calls).toEqual(['integrations']);
      expect(t.polls.enqueued).toEqual(['A c1 "Salesforce sync"', 'C c1']);
      expect(t.observer.calls).toEqual(['listed A,C']);
    });

    it('skips a discovered id that is not well-formed UTF-16 and polls the others', async () => {
      const t = setup();
      t.ampersand.scriptIntegrations({ body: [{ id: 'A' }, { id: 'bad\ud800' }, { id: 'C' }, { id: 'D' }] });
      expect(await t.run()).toMatchObject({ status: 'queued', integrations: ['A', 'C', 'D'], notQueued: 0 });
      expect(t.polls.enqueued).toEqual(['A c1', 'C c1', 'D c1']);
      expect(t.observer.calls).toEqual(['listed A,C,D']);
      expect(t.logs.lines().find((l) => String(l['msg']).includes('not well-formed'))).toMatchObject({
        level: 'warn',
        skipped: 1,
        examples: ['integrations[1]'],
      });
    });

    it.each<[string, () => Error | undefined, unknown, string]>([
      ['an API error', () => new AmpersandApiError('bad gateway', 'server_error', 502), undefined, 'server_error'],
      ['a 401', () => new AmpersandApiError('unauthorized', 'unauthorized', 401), undefined, 'unauthorized'],
      ['an unusable list', () => undefined, { nope: true }, 'invalid_body'],
    ])('after %s: queues nothing, forgets nothing, counts it under the discovery label and tells the observer', async (_name, error, body, reason) => {
      const t = setup();
      await seed(t.stores, t.clock, 'old');
      t.clock.advance(FORGET_AFTER_MS * 10);
      const failure = error();
      t.ampersand.scriptIntegrations(failure ? { error: failure } : { body });
      expect(await t.run()).toEqual({ status: 'discovery_failed', reason });
      expect(t.polls.enqueued).toEqual([]);
      expect(await t.stores.snapshots.load('old')).toBeDefined();
      expect(t.metrics.pollErrors()).toEqual([`${DISCOVERY_LABEL} ${reason}`]);
      // Told the failure, never a list: a failed discovery says nothing about what is listed.
      expect(t.observer.calls).toEqual([`failed ${DISCOVERY_LABEL} ${reason}`]);
    });
  });

  describe('retention', () => {
    it('forgets an unlisted integration not polled for the forget time, and keeps a recent one', async () => {
      const t = setup({ integrationIds: ['kept'] });
      await seed(t.stores, t.clock, 'stale');
      t.clock.advance(FORGET_AFTER_MS);
      await seed(t.stores, t.clock, 'recent');
      t.clock.advance(1);
      expect(await t.run()).toMatchObject({ status: 'queued', integrations: ['kept'] });
      expect(await t.stores.snapshots.load('stale')).toBeUndefined();
      expect(await t.stores.snapshots.load('recent')).toBeDefined();
      expect(t.logs.lines().find((l) => Array.isArray(l['dropped']))?.['dropped']).toEqual(['stale']);
    });
  });

  describe('with a pending outbox head', () => {
    it('hands it to delivery before anything else', async () => {
      const t = setup();
      await seed(t.stores, t.clock, 'A');
      const head = await t.stores.outbox.headId();
      t.ampersand.scriptIntegrations({ body: [{ id: 'A' }] });
      await t.run();
      expect(t.events.events).toEqual([`kick ${head}`, 'enqueue A', 'listed A']);
    });

    it("hands on every route lane's head too: a lost hand-off of a quiet route does not wait for its next alert", async () => {
      const t = setup({ integrationIds: ['A'], lanes: ['sales', 'support'] });
      const entry = (id: string, destination: string) => ({
        id,
        destination,
        enqueuedAt: 0,
        notification: { kind: 'dropped' as const, count: 1, sinceMs: 0, cap: 10, detectedAt: new Date(0).toISOString() },
      });
      await t.stores.upstream.commit('proj-1', 0, (await t.stores.upstream.load('proj-1')).state, [entry('u1.sales', 'sales')]);
      await t.run();
      // The default lane is empty, the support lane too: only the sales head is kicked, in its lane.
      expect(t.events.events[0]).toBe('kick u1.sales (sales)');
      expect(t.delivery.kicked).toEqual(['u1.sales']);
    });

    it('has handed it on when the observer then fails, and counts an internal error of the cycle', async () => {
      const t = setup({ integrationIds: ['A'] });
      await seed(t.stores, t.clock, 'A');
      const head = await t.stores.outbox.headId();
      t.observer.throwing.listed = new Error("OOM command not allowed when used memory > 'maxmemory'.");
      await expect(t.run()).rejects.toThrow('OOM');
      expect(t.delivery.kicked).toEqual([head]);
      expect(t.metrics.pollErrors()).toEqual([`${CYCLE_LABEL} internal_error`]);
    });
  });

  describe('when one poll cannot be queued', () => {
    it('queues the others in the same call, and counts it as a failed poll of that integration', async () => {
      const t = setup({ integrationIds: ['A', 'B', 'C'] });
      t.polls.failing.set('B', new URIError('URI malformed'));
      expect(await t.run()).toMatchObject({ status: 'queued', notQueued: 1 });
      expect(t.polls.enqueued).toEqual(['A c1', 'C c1']);
      expect(t.events.events).toEqual(['enqueue A,B,C', 'failed B internal_error', 'listed A,B,C']);
      expect(t.metrics.pollErrors()).toEqual(['B internal_error']);
      expect(t.logs.lines().find((l) => l['integrationId'] === 'B' && l['level'] === 'error')?.['msg']).toContain(
        'enqueue failed with an internal error: internal error: URIError: URI malformed',
      );
    });
  });

  describe('on an internal error', () => {
    const oom = (): Error => Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: 'ReplyError' });

    it.each<[string, { snapshots?: Partial<SnapshotStore>; outbox?: Partial<Outbox> }, Error]>([
      [
        'the retain',
        {
          snapshots: {
            retain: async () => {
              throw new RangeError('Maximum call stack size exceeded');
            },
          },
        },
        new RangeError('Maximum call stack size exceeded'),
      ],
      [
        'the outbox read',
        {
          outbox: {
            headId: async () => {
              throw oom();
            },
          },
        },
        oom(),
      ],
    ])('from %s fails the job, queues nothing, and counts a failed poll of the cycle', async (_name, broken, expected) => {
      const t = setup({ integrationIds: ['A'], ...broken });
      await expect(t.run()).rejects.toThrow(expected.message);
      expect(t.polls.enqueued).toEqual([]);
      expect(t.metrics.pollErrors()).toEqual([`${CYCLE_LABEL} internal_error`]);
      expect(t.observer.calls).toEqual([`failed ${CYCLE_LABEL} internal_error`]);
      expect(t.observer.errors[0]?.message).toBe(`internal error: ${expected.name}: ${expected.message}`);
    });
  });
});

describe('runCycle with several projects', () => {
  const projects: readonly ProjectConfig[] = [
    { id: 'proj-1', integrationIds: undefined, groupRef: undefined },
    { id: 'proj-2', integrationIds: ['B1', 'B2'], groupRef: 'org-9' },
  ];

  function twoProjects(options: { listMode?: 'integration' | 'project'; retained?: string[][] } = {}) {
    const one = createFakeAmpersandClient();
    const two = createFakeAmpersandClient();
    const retained = options.retained;
    const t = setup({
      projects,
      clients: { 'proj-1': one, 'proj-2': two },
      ...(options.listMode === undefined ? {} : { listMode: options.listMode }),
      ...(retained === undefined
        ? {}
        : {
            snapshots: {
              retain: async (ids: readonly string[]) => {
                retained.push([...ids]);
                return [];
              },
            },
          }),
    });
    one.scriptIntegrations({ body: [{ id: 'A1', name: 'Salesforce' }] });
    two.scriptIntegrations({ body: [{ id: 'B1', name: 'HubSpot' }, { id: 'B2' }] });
    return { ...t, one, two };
  }

  it('lists each project with its own client and queues every integration with its project', async () => {
    const t = twoProjects();
    expect(await t.run('c1')).toEqual({ status: 'queued', integrations: ['A1', 'B1', 'B2'], notQueued: 0 });
    expect(t.one.calls).toEqual(['integrations']);
    expect(t.two.calls).toEqual(['integrations']);
    expect(t.polls.enqueued).toEqual(['A1 c1 "Salesforce"', 'B1 c1 "HubSpot"', 'B2 c1']);
    expect(t.polls.enqueuedProjects).toEqual(['proj-1', 'proj-2', 'proj-2']);
    expect(t.events.events).toEqual(['enqueue A1,B1,B2', 'listed A1', 'listed B1,B2']);
    expect(t.observer.projects).toEqual(['proj-1', 'proj-2']);
  });

  it('polls the other projects when one cannot be listed, and counts and tells the failure against that project', async () => {
    const retained: string[][] = [];
    const t = twoProjects({ retained });
    expect(await t.run('c1')).toMatchObject({ status: 'queued' });
    t.one.scriptIntegrations({ error: new AmpersandApiError('the key may not read this project', 'unauthorized', 401) });
    expect(await t.run('c2')).toEqual({ status: 'queued', integrations: ['B1', 'B2'], notQueued: 0, discoveryFailed: ['proj-1'] });
    expect(t.polls.enqueued.slice(3)).toEqual(['B1 c2 "HubSpot"', 'B2 c2']);
    expect(t.metrics.pollErrors()).toEqual([`${DISCOVERY_LABEL} unauthorized`]);
    expect(t.metrics.callsOf('recordPollError')).toEqual([['proj-1', DISCOVERY_LABEL, 'unauthorized']]);
    expect(t.observer.calls.slice(2)).toEqual([`failed ${DISCOVERY_LABEL} unauthorized`, 'listed B1,B2']);
    expect(t.observer.projects.slice(2)).toEqual(['proj-1', 'proj-2']);
    // What the failed project listed last is kept from being forgotten.
    expect(retained).toEqual([
      ['A1', 'B1', 'B2'],
      ['B1', 'B2', 'A1'],
    ]);
  });

  it('forgets nothing in a cycle where a failed project has never been listed by this process', async () => {
    const retained: string[][] = [];
    const t = twoProjects({ retained });
    t.one.scriptIntegrations({ error: new AmpersandApiError('bad gateway', 'server_error', 502) });
    expect(await t.run('c1')).toMatchObject({ status: 'queued', integrations: ['B1', 'B2'], discoveryFailed: ['proj-1'] });
    expect(retained).toEqual([]);
  });

  it("reports a failed discovery, with the first project's reason, when no project can be listed", async () => {
    const one = createFakeAmpersandClient();
    const two = createFakeAmpersandClient();
    const discovered: ProjectConfig[] = projects.map((p) => ({ ...p, integrationIds: undefined }));
    const t = setup({ projects: discovered, clients: { 'proj-1': one, 'proj-2': two } });
    one.scriptIntegrations({ error: new AmpersandApiError('bad gateway', 'server_error', 502) });
    two.scriptIntegrations({ error: new AmpersandApiError('no', 'forbidden', 403) });
    expect(await t.run('c1')).toEqual({ status: 'discovery_failed', reason: 'server_error' });
    expect(t.polls.enqueued).toEqual([]);
    expect(t.observer.calls).toEqual([`failed ${DISCOVERY_LABEL} server_error`, `failed ${DISCOVERY_LABEL} forbidden`]);
    expect(t.observer.projects).toEqual(['proj-1', 'proj-2']);
  });

  describe('in project list mode', () => {
    it('queues one project poll per project with its integrations, in one round trip, and no integration poll', async () => {
      const t = twoProjects({ listMode: 'project' });
      expect(await t.run('c1')).toEqual({ status: 'queued', integrations: ['A1', 'B1', 'B2'], notQueued: 0 });
      expect(t.polls.enqueuedProjectPolls).toEqual(['proj-1 c1 A1', 'proj-2 c1 B1,B2']);
      expect(t.polls.enqueued).toEqual([]);
      expect(t.events.events).toEqual(['enqueue projects proj-1,proj-2', 'listed A1', 'listed B1,B2']);
    });

    it('counts every integration of a project whose poll could not be queued as a failed poll of its own', async () => {
      const t = twoProjects({ listMode: 'project' });
      t.polls.failing.set('proj-2', new Error('OOM'));
      expect(await t.run('c1')).toEqual({ status: 'queued', integrations: ['A1', 'B1', 'B2'], notQueued: 2 });
      expect(t.metrics.callsOf('recordPollError')).toEqual([
        ['proj-2', 'B1', 'internal_error'],
        ['proj-2', 'B2', 'internal_error'],
      ]);
    });
  });
});
