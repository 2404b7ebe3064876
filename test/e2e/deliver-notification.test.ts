/**
 * The delivery job's retry horizon across replicas, with a fixed clock: the
 * shared state is real (Redis, one connection per replica), and Slack is a
 * notifier that answers as scripted, as the webhook adapter would after a real
 * HTTP exchange. test/jobs/deliver-notification.test.ts covers every branch
 * of the job without Redis.
 */
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeliverNotification } from '../../jobs/deliver-notification.js';
import { createMetrics } from '../../src/adapters/metrics.js';
import { slackWording } from '../../src/adapters/slack-notifier.js';
import { createRedisStores, type RedisStores } from '../../src/adapters/redis/stores.js';
import { INITIAL_UPSTREAM_STATE } from '../../src/core/upstream-policy.js';
import type { Notifier, OutboxEntry, SendResult } from '../../src/ports.js';
import { answers as scripted } from '../fakes/fake-notifier.js';
import { captureLogs } from '../helpers/logger.js';
import { connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

const HOUR = 3_600_000;
const HORIZON = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);

const { broken, unavailable } = scripted;
const OK = 'ok' as const;

const entry = (id: string): OutboxEntry => ({
  id,
  destination: 'slack',
  enqueuedAt: T0,
  notification: { kind: 'upstream', projectId: 'p', state: 'down', reason: id, detectedAt: 't' },
});

let connections: Redis[];
let prefix: string;
let nowMs: number;
/** What Slack answers next, in order. */
let answers: (SendResult | typeof OK)[];

beforeEach(() => {
  connections = [];
  prefix = uniquePrefix();
  nowMs = T0;
  answers = [];
});
afterEach(async () => {
  const [first] = connections;
  if (first) await deletePrefix(first, prefix);
  for (const c of connections) c.disconnect();
});

/** Slack, shared by the replicas: it answers from `answers`. */
const slack: Notifier = {
  target: 'https://hooks.slack.test/…',
  wording: slackWording,
  async send() {
    const answer = answers.shift();
    if (answer === undefined) throw new Error('the test did not script this send');
    return answer === OK ? scripted.sent() : answer;
  },
};

/** One replica: its own Redis connection, the same prefix and clock. */
function replica(): { store: RedisStores; deliver: ReturnType<typeof createDeliverNotification> } {
  const redis = connect();
  connections.push(redis);
  const store = createRedisStores({ redis, prefix });
  const deliver = createDeliverNotification({
    outbox: store.outbox,
    notifiers: new Map([['slack', slack]]),
    metrics: createMetrics(new Registry(), { defaultMetrics: false }),
    logger: captureLogs().logger,
    delivery: { kick: async () => undefined },
    retryHorizonMs: HORIZON,
    now: () => new Date(nowMs),
  });
  return { store, deliver };
}

async function enqueue(store: RedisStores, ...ids: string[]): Promise<void> {
  for (const [rev, id] of ids.entries()) await store.upstream.commit('proj-1', rev, { ...INITIAL_UPSTREAM_STATE }, entry(id));
}

describe('deliverNotification', () => {
  describe('the retry horizon', () => {
    it('does not count a pause: a message that waited out a pause longer than the horizon is retried on its first 5xx', async () => {
      const a = replica();
      const b = replica();
      await enqueue(a.store, 'e1');
      answers = [broken(), broken()];
      expect((await a.deliver({ entryId: 'e1' }, 'j')).status).toBe('paused');
      // The pause lasts two days; the head is retried at most 5 minutes apart.
      nowMs = T0 + 2 * 24 * HOUR - 5 * 60_000;
      expect((await a.deliver({ entryId: 'e1' }, 'j')).status).toBe('paused');
      // The webhook is fixed; another replica's first attempt meets one transient 503.
      nowMs = T0 + 2 * 24 * HOUR;
      answers = [unavailable(), OK];
      expect((await b.deliver({ entryId: 'e1' }, 'j')).status).toBe('retry');
      expect(await b.store.outbox.deadLetters()).toEqual([]);
      nowMs += 2000;
      expect((await b.deliver({ entryId: 'e1' }, 'j')).status).toBe('sent');
      expect(await b.store.outbox.size()).toBe(0);
    });

    it('still dead-letters a head that keeps failing with 5xx once the horizon has passed since the webhook last failed', async () => {
      const { store, deliver } = replica();
      await enqueue(store, 'e1', 'e2');
      const faultAt = T0 + 30 * HOUR;
      nowMs = faultAt;
      answers = [broken()];
      expect((await deliver({ entryId: 'e1' }, 'j')).status).toBe('paused');
      answers = [unavailable(), unavailable()];
      nowMs = faultAt + HORIZON - 1000;
      expect((await deliver({ entryId: 'e1' }, 'j')).status).toBe('retry');
      nowMs = faultAt + HORIZON + 1000;
      expect((await deliver({ entryId: 'e1' }, 'j')).status).toBe('dead');
      expect((await store.outbox.deadLetters()).map((e) => e.id)).toEqual(['e1']);
      expect(await store.outbox.headId()).toBe('e2');
    });

    it('counts a message that waited its turn from the last message Slack took, not from its commit', async () => {
      const { store, deliver } = replica();
      await enqueue(store, 'e1', 'e2');
      nowMs = T0 + HORIZON - 1000;
      answers = [OK];
      expect((await deliver({ entryId: 'e1' }, 'j')).status).toBe('sent');
      nowMs = T0 + HORIZON + 60_000;
      answers = [unavailable()];
      expect((await deliver({ entryId: 'e2' }, 'j')).status).toBe('retry');
      expect(await store.outbox.deadLetters()).toEqual([]);
    });

    it('dead-letters a message that fails for longer than the horizon after its commit on a channel that never failed', async () => {
      const { store, deliver } = replica();
      await enqueue(store, 'e1');
      nowMs = T0 + HORIZON + 1000;
      answers = [unavailable()];
      expect((await deliver({ entryId: 'e1' }, 'j')).status).toBe('dead');
    });
  });
});
