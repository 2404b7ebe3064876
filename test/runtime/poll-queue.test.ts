/** The poll hand-off on BullMQ, against real Redis with a unique prefix: one addBulk per cycle, deduplicated per integration. */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BULLMQ_NAMES } from '../../src/runtime/job-names.js';
import { createBullmqPollQueue } from '../../src/runtime/poll-queue.js';
import { createPrivateRedis } from '../helpers/private-redis.js';
import { connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;
let poll: Queue;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
  poll = new Queue(BULLMQ_NAMES.queues.poll, { connection: redis, prefix });
});
afterEach(async () => {
  await poll.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

/** The waiting polls as `<integrationId> <cycleId>`, sorted. */
const waiting = async (queue: Queue = poll): Promise<string[]> =>
  (await queue.getJobs(['waiting'])).map((j) => `${(j.data as { integrationId: string }).integrationId} ${(j.data as { cycleId: string }).cycleId}`).sort();

/** Counts the writes on the connection's socket: one per command sent alone, one per pipeline, so one per round trip. */
function countWrites(connection: Redis): () => number {
  const socket = connection.stream;
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let writes = 0;
  socket.write = (...args: unknown[]) => {
    writes += 1;
    return write(...args);
  };
  return () => writes;
}

describe('the BullMQ poll queue', () => {
  it('queues one poll per integration, and does not double a poll still queued', async () => {
    const polls = createBullmqPollQueue(poll);
    expect(await polls.enqueueAll(['A', 'B'], 'c1')).toEqual([]);
    expect(await polls.enqueueAll(['A', 'B', 'C'], 'c2')).toEqual([]);
    expect(await waiting()).toEqual(['A c1', 'B c1', 'C c2']);
  });

  it('queues a cycle of 50 integrations in one round trip, as one of 1', async () => {
    const polls = createBullmqPollQueue(poll);
    const ids = Array.from({ length: 50 }, (_, i) => `int-${i}`);
    // The first call on a connection also loads BullMQ's scripts.
    await polls.enqueueAll(['warm-up'], 'c0');
    const writes = countWrites(redis);
    await polls.enqueueAll(ids.slice(0, 1), 'c1');
    expect(writes()).toBe(1);
    await polls.enqueueAll(ids, 'c2');
    expect(writes()).toBe(2);
    expect(await waiting()).toHaveLength(51);
  });

  it('tells an id that is not well-formed UTF-16 as not queued, and queues the others', async () => {
    const notQueued = await createBullmqPollQueue(poll).enqueueAll(['A', 'bad\ud800', 'C'], 'c1');
    expect(notQueued.map((n) => `${n.integrationId} ${String(n.error)}`)).toEqual(['bad\ud800 URIError: URI malformed']);
    expect(await waiting()).toEqual(['A c1', 'C c1']);
  });

  it('tells each poll Redis refused against its integration, and queues the others once', async () => {
    // A key of the wrong type where B's deduplication key goes: Redis refuses B's add alone.
    await redis.hset(`${prefix}:${BULLMQ_NAMES.queues.poll}:de:poll.B`, 'x', '1');
    const notQueued = await createBullmqPollQueue(poll).enqueueAll(['A', 'B', 'C'], 'c1');
    expect(notQueued.map((n) => n.integrationId)).toEqual(['B']);
    expect(String(notQueued[0]?.error)).toContain('WRONGTYPE');
    expect(await waiting()).toEqual(['A c1', 'C c1']);
  });

  it('tells every integration as not queued when Redis refuses every write, and does not reject', async () => {
    const server = await createPrivateRedis();
    await server.start();
    const own = new Redis(server.url, { maxRetriesPerRequest: 1 });
    const queue = new Queue(BULLMQ_NAMES.queues.poll, { connection: own, prefix });
    try {
      await own.config('SET', 'maxmemory', '1');
      const notQueued = await createBullmqPollQueue(queue).enqueueAll(['A', 'B'], 'c1');
      expect(notQueued.map((n) => n.integrationId)).toEqual(['A', 'B']);
      for (const { error } of notQueued) expect(String(error)).toContain('OOM command not allowed');
      await own.config('SET', 'maxmemory', '0');
      expect(await createBullmqPollQueue(queue).enqueueAll(['A', 'B'], 'c2')).toEqual([]);
      expect(await waiting(queue)).toEqual(['A c2', 'B c2']);
    } finally {
      await queue.close();
      own.disconnect();
      await server.stop();
    }
  });
});
