/**
 * Each poll tells the observer exactly one outcome, and each cycle queues
 * every integration it can, whatever one integration's id or enqueue does.
 * The store is real (Redis); the observer and the enqueue are recording
 * implementations of their ports, some of which throw as Redis would.
 */
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPollIntegration } from '../../jobs/poll-integration.js';
import { createRunCycle } from '../../jobs/run-cycle.js';
import { createMetrics } from '../../src/adapters/metrics.js';
import { createRedisStores, type RedisStores } from '../../src/adapters/redis/stores.js';
import { buildInstallation } from '../../src/simulator/fixtures.js';
import { AmpersandApiError } from '../../src/core/errors/ampersand-api-error.js';
import type { CycleObserver, PollObserver } from '../../src/ports.js';
import { installationSpec } from '../helpers/builders.js';
import { captureLogs } from '../helpers/logger.js';
import { connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;
let stores: RedisStores;
let registry: Registry;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
  stores = createRedisStores({ redis, prefix });
  registry = new Registry();
});
afterEach(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const closed = (): Error => new Error('Connection is closed.');

/** An observer that records every call, and throws from the calls named in `throwing`. */
function recordingObserver(throwing: { succeeded?: boolean; failed?: boolean } = {}) {
  const calls: string[] = [];
  const observer: CycleObserver = {
    async integrationsListed() {},
    async pollSucceeded(integrationId) {
      calls.push(`ok ${integrationId}`);
      if (throwing.succeeded) throw closed();
    },
    async pollFailed(integrationId, _cycleId, error) {
      calls.push(`failed ${integrationId} ${error.reason}`);
      if (throwing.failed) throw closed();
    },
  };
  return { observer, calls };
}

/** The counter's value, or undefined when the series does not exist (a 0 must be a real 0). */
const errors = async (integrationId: string, reason: string): Promise<number | undefined> => {
  const metric = (await registry.getSingleMetric('ampersand_poll_errors_total')?.get())?.values ?? [];
  return metric.find((v) => v.labels['integration_id'] === integrationId && v.labels['reason'] === reason)?.value;
};

describe('pollIntegration', () => {
  function poll(observer: PollObserver, listInstallations: () => Promise<unknown>, kickDelivery: () => Promise<void> = async () => undefined) {
    return createPollIntegration({
      ampersand: { listInstallations },
      snapshots: stores.snapshots,
      outbox: stores.outbox,
      metrics: createMetrics(registry, { defaultMetrics: false }),
      logger: captureLogs().logger,
      projectId: 'proj-1',
      observer,
      delivery: { kick: kickDelivery },
      now: () => new Date(0),
      newLineage: () => 'L',
    })({ integrationId: 'int-1', cycleId: 'c1' }, 'job');
  }

  describe('when the observer cannot record a failed poll', () => {
    it.each<[string, () => Promise<unknown>, string]>([
      ['an API error', async () => { throw new AmpersandApiError('503', 'server_error', 503); }, 'server_error'],
      ['an unusable body', async () => [{ id: '' }], 'invalid_body'],
    ])('reports %s once and counts no internal error', async (_name, list, reason) => {
      const { observer, calls } = recordingObserver({ failed: true });
      await expect(poll(observer, list)).rejects.toThrow('Connection is closed.');
      expect(calls).toEqual([`failed int-1 ${reason}`]);
      expect(await errors('int-1', reason)).toBe(1);
      expect(await errors('int-1', 'internal_error')).toBe(0);
    });
  });

  describe('when reporting a committed poll fails', () => {
    const unhealthy = async (): Promise<unknown> => [buildInstallation(installationSpec('a', { healthStatus: 'unhealthy' }))];

    it('fails the job but keeps the commit and reports no failed poll when the observer throws', async () => {
      const { observer, calls } = recordingObserver({ succeeded: true });
      const kicked: string[] = [];
      await expect(poll(observer, unhealthy, async () => { kicked.push('kick'); })).rejects.toThrow('Connection is closed.');
      expect(calls).toEqual(['ok int-1']);
      expect((await stores.snapshots.load('int-1'))?.version).toBe(1);
      expect(await errors('int-1', 'internal_error')).toBe(0);
      // The baseline summary still moves.
      expect(kicked).toEqual(['kick']);
    });

    it('fails the job but reports no failed poll when the delivery kick throws', async () => {
      const { observer, calls } = recordingObserver();
      await expect(poll(observer, unhealthy, async () => { throw closed(); })).rejects.toThrow('Connection is closed.');
      expect(calls).toEqual(['ok int-1']);
      expect(await stores.outbox.size()).toBe(1);
      expect(await errors('int-1', 'internal_error')).toBe(0);
    });
  });
});

describe('runCycle', () => {
  function cycle(listIntegrations: () => Promise<unknown>, enqueuePoll: (id: string, cycleId: string) => Promise<void>, observer: CycleObserver) {
    const logs = captureLogs();
    const run = createRunCycle({
      ampersand: { listIntegrations },
      snapshots: stores.snapshots,
      outbox: stores.outbox,
      metrics: createMetrics(registry, { defaultMetrics: false }),
      observer,
      logger: logs.logger,
      projectId: 'proj-1',
      integrationIds: [],
      polls: { enqueue: enqueuePoll },
      delivery: { kick: async () => undefined },
      forgetAfterMs: 1000,
      now: () => new Date(0),
    });
    return { run, logs };
  }

  it('skips a discovered id that is not well-formed UTF-16 and polls the others', async () => {
    const queued: string[] = [];
    // As main.ts builds the deduplication id; a lone surrogate makes encodeURIComponent throw.
    const enqueue = async (id: string): Promise<void> => { queued.push(`poll.${encodeURIComponent(id)}`); };
    const { observer, calls } = recordingObserver();
    const { run, logs } = cycle(async () => [{ id: 'A' }, { id: 'bad\ud800' }, { id: 'C' }, { id: 'D' }], enqueue, observer);
    expect(await run('c1', 'job')).toMatchObject({ status: 'queued', integrations: ['A', 'C', 'D'], notQueued: 0 });
    expect(queued).toEqual(['poll.A', 'poll.C', 'poll.D']);
    expect(calls).toEqual([]);
    expect(logs.lines().find((l) => String(l['msg']).includes('not well-formed'))).toMatchObject({ level: 'warn', skipped: 1, examples: ['integrations[1]'] });
  });

  it('goes on past one integration whose enqueue throws, and counts it as a failed poll of that integration', async () => {
    const queued: string[] = [];
    const enqueue = async (id: string): Promise<void> => {
      if (id === 'B') throw new URIError('URI malformed');
      queued.push(id);
    };
    const { observer, calls } = recordingObserver();
    const { run, logs } = cycle(async () => [{ id: 'A' }, { id: 'B' }, { id: 'C' }], enqueue, observer);
    expect(await run('c1', 'job')).toMatchObject({ status: 'queued', notQueued: 1 });
    expect(queued).toEqual(['A', 'C']);
    expect(calls).toEqual(['failed B internal_error']);
    expect(await errors('B', 'internal_error')).toBe(1);
    expect(logs.lines().find((l) => l['integrationId'] === 'B' && l['level'] === 'error')?.['msg']).toContain('enqueue failed with an internal error: internal error: URIError: URI malformed');
  });
});
