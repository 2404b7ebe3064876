/**
 * The jobs hand the outbox head to delivery before they tell the upstream
 * tracker, so a tracker that is slow or fails never delays or prevents
 * delivery. The store and the delivery queue are real (Redis, BullMQ); the
 * tracker is real where it fails as Redis would, and a controllable observer
 * where the test must hold it mid-call.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_POLICY } from '../../src/core/alert-state.js';
import { createPollIntegration } from '../../jobs/poll-integration.js';
import { CYCLE_LABEL, createRunCycle } from '../../jobs/run-cycle.js';
import { createUpstreamTracker } from '../../jobs/track-upstream.js';
import { createMetrics } from '../../src/adapters/metrics.js';
import { createRedisStores, type RedisStores } from '../../src/adapters/redis/stores.js';
import type { DeliveryQueue, Metrics, PollObserver } from '../../src/ports.js';
import { createBullmqDeliveryQueue } from '../../src/runtime/delivery-queue.js';
import { BULLMQ_NAMES, deliverJobId } from '../../src/runtime/job-names.js';
import { buildInstallation } from '../../src/simulator/fixtures.js';
import { installationSpec } from '../helpers/builders.js';
import { captureLogs } from '../helpers/logger.js';
import { connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;
let stores: RedisStores;
let registry: Registry;
let metrics: Metrics;
let alerts: Queue;
let delivery: DeliveryQueue;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
  stores = createRedisStores({ redis, prefix });
  registry = new Registry();
  metrics = createMetrics(registry, { defaultMetrics: false });
  alerts = new Queue(BULLMQ_NAMES.queues.alerts, { connection: redis, prefix });
  delivery = createBullmqDeliveryQueue(alerts);
});
afterEach(async () => {
  await alerts.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const oom = (): Error => Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'."), { name: 'ReplyError' });
/** One unhealthy installation: the baseline commits one summary notification. */
const unhealthy = async (): Promise<unknown> => [buildInstallation(installationSpec('a', { healthStatus: 'unhealthy' }))];

/** A tracker on the real upstream state whose reads and commits fail as Redis refusing them would. */
const failingTracker = () =>
  createUpstreamTracker({
    store: {
      load: async () => {
        throw oom();
      },
      commit: async () => {
        throw oom();
      },
    },
    logger: captureLogs().logger,
    projects: ['proj-1'],
    degradedAfterCycles: 2,
    forgetAfterMs: 60_000,
    delivery,
    now: () => new Date(0),
    newId: () => 'id',
  });

function poll(observer: PollObserver, handOff: DeliveryQueue) {
  return createPollIntegration({
    ampersand: { forProject: () => ({ listInstallations: unhealthy, listInstallationsForProject: async () => [] }) },
    snapshots: stores.snapshots,
    outbox: stores.outbox,
    metrics,
    logger: captureLogs().logger,
    projectId: 'proj-1',
    observer,
    delivery: handOff,
    now: () => new Date(0),
    newLineage: () => 'L',
    policy: DEFAULT_ALERT_POLICY,
    failureDetails: { fetch: () => Promise.resolve(undefined) },
  })({ integrationId: 'int-1', cycleId: 'c1' }, 'job');
}

const deliverJob = async (entryId: string) => (await alerts.getJob(deliverJobId(entryId)))?.data as unknown;

describe('pollIntegration', () => {
  it('hands the committed head to delivery before the observer answers', async () => {
    const kicked: string[] = [];
    let observerCalled!: () => void;
    const called = new Promise<void>((resolve) => {
      observerCalled = resolve;
    });
    let fail!: (error: Error) => void;
    const observer: PollObserver = {
      pollSucceeded: () => {
        observerCalled();
        return new Promise<void>((_resolve, reject) => {
          fail = reject;
        });
      },
      pollFailed: async () => {
        throw new Error('not a failed poll');
      },
    };
    const job = poll(observer, {
      kick: async (headId) => {
        kicked.push(headId);
      },
    });
    await called;
    // The observer has not answered, and the head is already handed on.
    const head = await stores.outbox.headId();
    expect(head).toBeDefined();
    expect(kicked).toEqual([head]);
    fail(new Error('Connection is closed.'));
    await expect(job).rejects.toThrow('Connection is closed.');
    expect(kicked).toEqual([head]);
  });

  it('leaves a delivery job for the committed head when the upstream tracker cannot store the outcome', async () => {
    await expect(poll(failingTracker(), delivery)).rejects.toThrow('OOM');
    const head = await stores.outbox.headId();
    expect(head).toBeDefined();
    expect(await deliverJob(head ?? '')).toEqual({ entryId: head });
  });
});

describe('runCycle', () => {
  it('leaves a delivery job for the outbox head when the upstream tracker fails, and counts an internal error', async () => {
    // A head left by a poll whose process died before its hand-off.
    await poll({ pollSucceeded: async () => undefined, pollFailed: async () => undefined }, { kick: async () => undefined });
    const head = await stores.outbox.headId();
    expect(head).toBeDefined();
    expect(await deliverJob(head ?? '')).toBeUndefined();
    const run = createRunCycle({
      ampersand: { forProject: () => ({ listIntegrations: async () => [] }) },
      snapshots: stores.snapshots,
      outbox: stores.outbox,
      metrics,
      observer: failingTracker(),
      logger: captureLogs().logger,
      projects: [{ id: 'proj-1', integrationIds: ['int-1'], groupRef: undefined }],
      polls: { enqueueAll: async () => [], enqueueProjects: async () => [] },
      delivery,
      forgetAfterMs: 1000,
      now: () => new Date(0),
    });
    await expect(run('c1', 'job')).rejects.toThrow('OOM');
    expect(await deliverJob(head ?? '')).toEqual({ entryId: head });
    const errors = (await registry.getSingleMetric('ampersand_poll_errors_total')?.get())?.values ?? [];
    expect(errors.find((v) => v.labels['integration_id'] === CYCLE_LABEL && v.labels['reason'] === 'internal_error')?.value).toBe(1);
  });
});
