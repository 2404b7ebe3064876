/**
 * An exception in a poll or a cycle that is not the API's (Redis refusing a
 * command, a RangeError, corrupt state) counts as a failed poll for the
 * upstream tracker, and the job still fails with the original error. The
 * tracker is real, on the in-memory stores; the failing dependency is a port
 * implementation that throws, as Redis or a bug would.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_POLICY } from '../../src/core/alert-state.js';
import { createPollIntegration } from '../../jobs/poll-integration.js';
import { CYCLE_LABEL, createRunCycle } from '../../jobs/run-cycle.js';
import { createUpstreamTracker, type UpstreamTracker } from '../../jobs/track-upstream.js';
import type { Outbox, PollObserver, SnapshotStore } from '../../src/ports.js';
import { buildInstallation } from '../../src/simulator/fixtures.js';
import { createInMemoryStores, type InMemoryStores } from '../fakes/in-memory-stores.js';
import { createRecordingMetrics, type RecordingMetrics } from '../fakes/recording-metrics.js';
import { installationSpec } from '../helpers/builders.js';
import { captureLogs } from '../helpers/logger.js';

let stores: InMemoryStores;
let tracker: UpstreamTracker;
let metrics: RecordingMetrics;

const K = 2;
const oom = (): Error => Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: 'ReplyError' });
const body = [buildInstallation(installationSpec('a'))];

/** An upstream tracker with a fixed clock and K cycles, on the given upstream store. */
const trackerOn = (upstreamStore: Parameters<typeof createUpstreamTracker>[0]['store']) =>
  createUpstreamTracker({
    store: upstreamStore,
    logger: captureLogs().logger,
    projects: ['proj-1'],
    degradedAfterCycles: K,
    forgetAfterMs: 60_000,
    delivery: { kick: async () => undefined },
    now: () => new Date(0),
    newId: () => 'id',
  });

beforeEach(() => {
  stores = createInMemoryStores();
  metrics = createRecordingMetrics();
  tracker = trackerOn(stores.upstream);
});

/** Store roles with some methods replaced, as a broken Redis or a bug would behave. */
interface Broken {
  readonly snapshots?: Partial<SnapshotStore>;
  readonly outbox?: Partial<Outbox>;
}

function poll(broken: Broken, observer: PollObserver = tracker) {
  return createPollIntegration({
    ampersand: { forProject: () => ({ listInstallations: async () => body, listInstallationsForProject: async () => [] }) },
    snapshots: { ...stores.snapshots, ...broken.snapshots },
    outbox: { ...stores.outbox, ...broken.outbox },
    metrics,
    logger: captureLogs().logger,
    projectId: 'proj-1',
    observer,
    delivery: { kick: async () => undefined },
    now: () => new Date(0),
    newLineage: () => 'L',
    policy: DEFAULT_ALERT_POLICY,
    failureDetails: { fetch: () => Promise.resolve(undefined) },
  });
}

function cycle(broken: Broken) {
  return createRunCycle({
    ampersand: { forProject: () => ({ listIntegrations: async () => [] }) },
    snapshots: { ...stores.snapshots, ...broken.snapshots },
    outbox: { ...stores.outbox, ...broken.outbox },
    metrics,
    observer: tracker,
    logger: captureLogs().logger,
    projects: [{ id: 'proj-1', integrationIds: ['int-1'], groupRef: undefined }],
    polls: { enqueueAll: async () => [], enqueueProjects: async () => [] },
    delivery: { kick: async () => undefined },
    forgetAfterMs: 1000,
    now: () => new Date(0),
  });
}

const errorCount = (integrationId: string): number => metrics.pollErrors().filter((e) => e === `${integrationId} internal_error`).length;

describe('an internal error', () => {
  it.each<[string, () => (cycleId: string) => Promise<unknown>, Error, string]>([
    [
      'Redis refusing the load of a poll with OOM',
      () => {
        const p = poll({
          snapshots: {
            load: async () => {
              throw oom();
            },
          },
        });
        return (c) => p({ integrationId: 'int-1', cycleId: c }, 'job');
      },
      oom(),
      'int-1',
    ],
    [
      'a RangeError in the commit of a poll',
      () => {
        const p = poll({
          snapshots: {
            commit: async () => {
              throw new RangeError('Maximum call stack size exceeded');
            },
          },
        });
        return (c) => p({ integrationId: 'int-1', cycleId: c }, 'job');
      },
      new RangeError('Maximum call stack size exceeded'),
      'int-1',
    ],
    [
      'a RangeError in the retain of a cycle',
      () => {
        const run = cycle({
          snapshots: {
            retain: async () => {
              throw new RangeError('Maximum call stack size exceeded');
            },
          },
        });
        return (c) => run(c, 'job');
      },
      new RangeError('Maximum call stack size exceeded'),
      CYCLE_LABEL,
    ],
    [
      'Redis refusing the outbox read of a cycle with OOM',
      () => {
        const run = cycle({
          outbox: {
            headId: async () => {
              throw oom();
            },
          },
        });
        return (c) => run(c, 'job');
      },
      oom(),
      CYCLE_LABEL,
    ],
  ])('from %s fails the job and counts as a failed poll, so the upstream alert opens after K cycles', async (_name, build, expected, label) => {
    const run = build();
    for (let c = 1; c <= K; c += 1) await expect(run(`c${c}`)).rejects.toThrow(expected.message);
    expect(await tracker.apiUp()).toBe(false);
    const report = await tracker.report();
    expect(report.state).toBe('degraded');
    expect(report.reason).toContain(
      `upstream degraded: ${K} consecutive poll cycles failed, last error: internal_error: internal error: ${expected.name}: ${expected.message}`,
    );
    expect(await stores.outbox.size()).toBe(1);
    expect(errorCount(label)).toBe(K);
  });

  it('is rethrown as it was when the tracker cannot record it either', async () => {
    const broken: PollObserver = {
      pollSucceeded: async () => {
        throw oom();
      },
      pollFailed: async () => {
        throw new Error('Connection is closed.');
      },
    };
    const p = poll(
      {
        snapshots: {
          commit: async () => {
            throw new RangeError('Invalid string length');
          },
        },
      },
      broken,
    );
    await expect(p({ integrationId: 'int-1', cycleId: 'c1' }, 'job')).rejects.toThrow(RangeError);
  });

  it('makes the tracker report degraded and the API not up while it cannot store outcomes', async () => {
    const refusing = trackerOn({
      load: (projectId) => stores.upstream.load(projectId),
      commit: async () => {
        throw oom();
      },
    });
    await expect(
      poll(
        {
          snapshots: {
            load: async () => {
              throw oom();
            },
          },
        },
        refusing,
      )({ integrationId: 'int-1', cycleId: 'c1' }, 'job'),
    ).rejects.toThrow('OOM');
    expect(await refusing.apiUp()).toBe(false);
    expect(await refusing.report()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('poll outcomes cannot be stored in Redis: OOM') });
  });
});
