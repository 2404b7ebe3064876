/** The cycle's hand-off to the poll workers on BullMQ: one `poll` job per integration. */
import type { Queue } from 'bullmq';
import type { PollJobData } from '../../jobs/poll-integration.js';
import type { PollQueue } from '../ports.js';
import { BULLMQ_NAMES, pollDeduplicationId } from './job-names.js';

export function createBullmqPollQueue(poll: Queue): PollQueue {
  return {
    async enqueue(integrationId, cycleId, integrationName) {
      const data: PollJobData = { integrationId, cycleId, ...(integrationName === undefined ? {} : { integrationName }) };
      await poll.add(BULLMQ_NAMES.jobs.poll, data, {
        // One queued-or-running poll per integration: a slow or hanging API never piles up jobs.
        deduplication: { id: pollDeduplicationId(integrationId) },
        attempts: 1,
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      });
    },
  };
}
