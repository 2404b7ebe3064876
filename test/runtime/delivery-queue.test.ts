/** The outbox hand-off on BullMQ, against real Redis with a unique prefix. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBullmqDeliveryQueue } from '../../src/runtime/delivery-queue.js';
import { BULLMQ_NAMES } from '../../src/runtime/job-names.js';
import { connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;
let alerts: Queue;

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
  alerts = new Queue(BULLMQ_NAMES.queues.alerts, { connection: redis, prefix });
});
afterEach(async () => {
  await alerts.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('the BullMQ delivery queue', () => {
  it('queues one deliver job per head, however often the head is kicked', async () => {
    const delivery = createBullmqDeliveryQueue(alerts);
    await delivery.kick('e1');
    await delivery.kick('e1');
    await delivery.kick('e2');
    const jobs = await alerts.getJobs(['waiting']);
    expect(jobs.map((j) => `${j.id} ${j.name} ${JSON.stringify(j.data)}`).sort()).toEqual([
      'deliver.e1 deliver {"entryId":"e1"}',
      'deliver.e2 deliver {"entryId":"e2"}',
    ]);
  });
});
