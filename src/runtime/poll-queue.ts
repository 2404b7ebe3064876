/**
 * The cycle's hand-off to the poll workers on BullMQ: one `poll` job per
 * integration, or one `poll-project` job per project (AMPERSAND_LIST_MODE=project),
 * the whole cycle's in one addBulk (one pipeline, so one round trip whatever
 * the number of integrations).
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { PollJobData } from '../../jobs/poll-integration.js';
import type { PollProjectJobData } from '../../jobs/poll-project.js';
import type { PollNotQueued, PollQueue, ProjectPollNotQueued } from '../ports.js';
import { BULLMQ_NAMES, pollDeduplicationId, pollProjectDeduplicationId } from './job-names.js';

/** A poll's job data: the name and project ride along only when the cycle knew them (a job of the release before has neither). */
const pollJobData = (integrationId: string, cycleId: string, integrationName: string | undefined, projectId: string | undefined): PollJobData => ({
  integrationId,
  ...(projectId === undefined ? {} : { projectId }),
  cycleId,
  ...(integrationName === undefined ? {} : { integrationName }),
});

interface PollJob {
  readonly name: string;
  readonly data: PollJobData;
  readonly opts: JobsOptions;
}

/** Kept as with integration polls: one attempt (the next cycle is the retry), a bounded history. */
const pollJobOptions = { attempts: 1, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } } as const;

export function createBullmqPollQueue(poll: Queue): PollQueue {
  return {
    async enqueueProjects(requests, cycleId, names) {
      const notQueued: ProjectPollNotQueued[] = [];
      const jobs: { name: string; data: PollProjectJobData; opts: JobsOptions }[] = [];
      for (const { projectId, integrationIds } of requests) {
        try {
          const integrations = integrationIds.map((id) => {
            const name = names?.get(id);
            return name === undefined ? { id } : { id, name };
          });
          jobs.push({
            name: BULLMQ_NAMES.jobs.pollProject,
            data: { projectId, cycleId, integrations },
            // One queued-or-running poll per project, as per integration in the other mode.
            opts: { deduplication: { id: pollProjectDeduplicationId(projectId) }, ...pollJobOptions },
          });
        } catch (error) {
          notQueued.push({ projectId, error });
        }
      }
      if (jobs.length === 0) return notQueued;
      try {
        await poll.addBulk(jobs);
      } catch {
        // As below: each again on its own, so that every failure is told against its project.
        for (const job of jobs) {
          try {
            await poll.add(job.name, job.data, job.opts);
          } catch (error) {
            notQueued.push({ projectId: job.data.projectId, error });
          }
        }
      }
      return notQueued;
    },

    async enqueueAll(integrationIds, cycleId, names, projects) {
      const notQueued: PollNotQueued[] = [];
      const jobs: PollJob[] = [];
      for (const integrationId of integrationIds) {
        try {
          jobs.push({
            name: BULLMQ_NAMES.jobs.poll,
            data: pollJobData(integrationId, cycleId, names?.get(integrationId), projects?.get(integrationId)),
            opts: {
              // One queued-or-running poll per integration: a slow or hanging API never piles up jobs.
              // BullMQ applies it to each job of an addBulk as to a single add.
              deduplication: { id: pollDeduplicationId(integrationId) },
              ...pollJobOptions,
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
