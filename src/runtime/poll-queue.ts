/**
 * The cycle's hand-off to the poll workers on BullMQ: one `poll` job per
 * integration, the whole cycle's in one addBulk (one pipeline, so one round
 * trip whatever the number of integrations).
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { PollJobData } from '../../jobs/poll-integration.js';
import type { PollNotQueued, PollQueue } from '../ports.js';
import { BULLMQ_NAMES, pollDeduplicationId } from './job-names.js';

/** A poll's job data: the name rides along only when the cycle knew it (a job of the release before has none). */
const pollJobData = (integrationId: string, cycleId: string, integrationName: string | undefined): PollJobData => ({
  integrationId,
  cycleId,
  ...(integrationName === undefined ? {} : { integrationName }),
});

interface PollJob {
  readonly name: string;
  readonly data: PollJobData;
  readonly opts: JobsOptions;
}

export function createBullmqPollQueue(poll: Queue): PollQueue {
  return {
    async enqueueAll(integrationIds, cycleId, names) {
      const notQueued: PollNotQueued[] = [];
      const jobs: PollJob[] = [];
      for (const integrationId of integrationIds) {
        try {
          jobs.push({
            name: BULLMQ_NAMES.jobs.poll,
            data: pollJobData(integrationId, cycleId, names?.get(integrationId)),
            opts: {
              // One queued-or-running poll per integration: a slow or hanging API never piles up jobs.
              // BullMQ applies it to each job of an addBulk as to a single add.
              deduplication: { id: pollDeduplicationId(integrationId) },
              attempts: 1,
              removeOnComplete: { count: 1000 },
              removeOnFail: { count: 1000 },
            },
          });
        } catch (error) {
          // An id that is not well-formed UTF-16 has no deduplication id: that poll alone is not queued.
          notQueued.push({ integrationId, error });
        }
      }
      if (jobs.length === 0) return notQueued;
      try {
        await poll.addBulk(jobs);
        return notQueued;
      } catch {
        // addBulk says only the first error of its pipeline, not which jobs it concerns, and the others
        // are queued. Each is added again on its own, so every failure is told against its integration;
        // the deduplication id makes a second add of a poll still queued or running a no-op.
        for (const job of jobs) {
          try {
            await poll.add(job.name, job.data, job.opts);
          } catch (error) {
            notQueued.push({ integrationId: job.data.integrationId, error });
          }
        }
        const order = new Map(integrationIds.map((id, i) => [id, i]));
        return notQueued.sort((a, b) => (order.get(a.integrationId) ?? 0) - (order.get(b.integrationId) ?? 0));
      }
    },
  };
}
