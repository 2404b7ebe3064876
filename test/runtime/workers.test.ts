/**
 * The workers check a job's data before any job runs: a bad payload fails the
 * job for good (no retry can mend it), with a message naming the field, and is
 * logged; except that a delivery job's id names its entry, so the outbox head
 * is delivered whatever its data. A Slack 429 holds the queue, never fails
 * the job. Real Redis and BullMQ, a unique prefix per test; the jobs are
 * recording handlers.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliverOutcome } from '../../jobs/deliver-notification.js';
import { SlackDeliveryError } from '../../src/core/errors/slack-delivery-error.js';
import { createBullmqDeliveryQueue } from '../../src/runtime/delivery-queue.js';
import { BULLMQ_NAMES, deliverJobId } from '../../src/runtime/job-names.js';
import type { JobHandlers } from '../../src/runtime/job-router.js';
import { openQueues, type Queues } from '../../src/runtime/queues.js';
import { createWorkers, type Workers } from '../../src/runtime/workers.js';
import { captureLogs, type CapturedLogs } from '../helpers/logger.js';
import { connect, deletePrefix, uniquePrefix } from '../helpers/redis.js';

let redis: Redis;
let prefix: string;
let queues: Queues;
let workers: Workers;
let logs: CapturedLogs;
let calls: string[];
/** What the next deliveries answer, in order; `sent` once these are used up. */
let outcomes: DeliverOutcome[];

const handlers: JobHandlers = {
  runCycle: async (cycleId) => {
    calls.push(`cycle ${cycleId}`);
  },
  pollIntegration: async (data) => {
    calls.push(`poll ${data.integrationId} ${data.cycleId}`);
  },
  pollProject: async (data) => {
    calls.push(`poll-project ${data.projectId} ${data.cycleId} ${data.integrations.map((i) => i.id).join(',')}`);
  },
  deliver: async (data) => {
    calls.push(`deliver ${data.entryId}`);
    return outcomes.shift() ?? { status: 'sent' };
  },
};

beforeEach(() => {
  redis = connect();
  prefix = uniquePrefix();
  logs = captureLogs();
  calls = [];
  outcomes = [];
  queues = openQueues({ connection: redis, prefix, logger: logs.logger });
  workers = createWorkers({
    connection: redis,
    prefix,
    logger: logs.logger,
    handlers,
    alertsQueue: queues.alerts,
    settings: { pollConcurrency: 1, jobLockMs: 30_000, slackMessagesPerSecond: 10 },
  });
  workers.run();
});
afterEach(async () => {
  await workers.close(true);
  await queues.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

/** The next job the worker completes or fails. */
function settled(worker: Workers['poll']): Promise<{ job: Job; failed: boolean }> {
  return new Promise((resolve) => {
    worker.once('completed', (job) => resolve({ job, failed: false }));
    worker.once('failed', (job) => {
      if (job) resolve({ job, failed: true });
    });
  });
}

describe('the workers', () => {
  it.each<[string, 'poll' | 'alerts', string, unknown, string]>([
    ['a deliver job without entryId', 'alerts', BULLMQ_NAMES.jobs.deliver, { id: 'e1' }, 'deliver job data: entryId must be a non-empty string, got undefined'],
    [
      'a poll job with a numeric integrationId',
      'poll',
      BULLMQ_NAMES.jobs.poll,
      { integrationId: 7, cycleId: 'c1' },
      'poll job data: integrationId must be a non-empty string, got number',
    ],
  ])('fail %s for good, naming the field, without running the job', async (_name, queue, name, data, reason) => {
    const done = settled(workers[queue]);
    await queues[queue].add(name, data, { attempts: 5 });
    const { job, failed } = await done;
    expect(failed).toBe(true);
    expect(job.failedReason).toBe(reason);
    expect(job.attemptsMade).toBe(1);
    expect(await job.getState()).toBe('failed');
    expect(calls).toEqual([]);
    expect(logs.lines().find((l) => l['msg'] === 'job failed')).toMatchObject({ level: 'error', name, err: { message: reason } });
  });

  it('run a poll job and a deliver job with their data', async () => {
    const polled = settled(workers.poll);
    await queues.poll.add(BULLMQ_NAMES.jobs.poll, { integrationId: 'int-1', cycleId: 'c1' });
    expect((await polled).failed).toBe(false);
    const delivered = settled(workers.alerts);
    await queues.alerts.add(BULLMQ_NAMES.jobs.deliver, { entryId: 'e1' });
    expect((await delivered).failed).toBe(false);
    expect(calls).toEqual(['poll int-1 c1', 'deliver e1']);
  });

  it.each([
    ['Slack', new SlackDeliveryError('Slack answered 503', 'retryable', { status: 503 })],
    ['any other channel', new Error('the pager answered 503')],
  ])('back a failed send off without logging it again ("job failed"), whichever channel (%s) failed', async (_channel, error) => {
    outcomes = [{ status: 'retry', error }];
    const firstTry = settled(workers.alerts);
    await createBullmqDeliveryQueue(queues.alerts).kick('e1');
    const { job, failed } = await firstTry;
    expect(failed).toBe(true);
    expect(job.failedReason).toBe(error.message);
    expect(await queues.alerts.getJobState(deliverJobId('e1'))).toBe('delayed');
    expect(logs.lines().filter((l) => l['msg'] === 'job failed')).toEqual([]);
  });

  it('deliver the outbox head whose job data was corrupted while it waited in backoff, for the entry its job id names', async () => {
    outcomes = [{ status: 'retry', error: new SlackDeliveryError('Slack answered 503', 'retryable', { status: 503 }) }];
    const firstTry = settled(workers.alerts);
    await createBullmqDeliveryQueue(queues.alerts).kick('e1');
    expect((await firstTry).failed).toBe(true);
    expect(await queues.alerts.getJobState(deliverJobId('e1'))).toBe('delayed');
    await redis.hset(`${prefix}:${BULLMQ_NAMES.queues.alerts}:${deliverJobId('e1')}`, 'data', '{"entryId":7}');
    const retried = settled(workers.alerts);
    const { job, failed } = await retried;
    expect(failed).toBe(false);
    expect(job.id).toBe('deliver.e1');
    expect(await job.getState()).toBe('completed');
    expect(calls).toEqual(['deliver e1', 'deliver e1']);
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        jobId: 'deliver.e1',
        entryId: 'e1',
        msg: 'deliver job data: entryId must be a non-empty string, got number; delivering entry e1, named by the job id',
      }),
    );
    expect(logs.lines().filter((l) => l['msg'] === 'job failed')).toEqual([]);
  });

  it('fail a deliver job whose data and id are both unusable for good, without holding up the head', async () => {
    const bad = settled(workers.alerts);
    await queues.alerts.add(BULLMQ_NAMES.jobs.deliver, { entryId: 7 }, { jobId: deliverJobId(''), attempts: 5 });
    const { job, failed } = await bad;
    expect(failed).toBe(true);
    expect(job.failedReason).toBe('deliver job data: entryId must be a non-empty string, got number');
    const delivered = settled(workers.alerts);
    await createBullmqDeliveryQueue(queues.alerts).kick('e1');
    expect(await delivered).toMatchObject({ failed: false, job: { id: 'deliver.e1' } });
    expect(calls).toEqual(['deliver e1']);
  });

  it('hold a delivery rate limited with Retry-After 0 and deliver it afterwards, without failing the job', async () => {
    outcomes = [{ status: 'rate_limited', retryAfterMs: 0 }];
    const delivered = settled(workers.alerts);
    await createBullmqDeliveryQueue(queues.alerts).kick('e1');
    const { job, failed } = await delivered;
    expect(failed).toBe(false);
    expect(await job.getState()).toBe('completed');
    expect(calls).toEqual(['deliver e1', 'deliver e1']);
    expect(logs.lines().filter((l) => l['msg'] === 'job failed')).toEqual([]);
  });
});
