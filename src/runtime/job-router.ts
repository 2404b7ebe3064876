/**
 * What a worker does with a job it took: check its data, hand it to the job
 * by name, and turn the job's outcome into BullMQ's terms (complete, retry
 * with backoff, rate limit the queue, fail for good).
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { DeliverJobData, DeliverOutcome } from '../../jobs/deliver-notification.js';
import type { PollJobData } from '../../jobs/poll-integration.js';
import { parseDeliverJobData, parsePollJobData } from './job-data.js';
import { BULLMQ_NAMES } from './job-names.js';

/** The jobs the workers run, as the jobs/ modules build them: closures, so each can be handed on alone. */
export interface JobHandlers {
  runCycle(this: void, cycleId: string, jobId: string | undefined): Promise<unknown>;
  pollIntegration(this: void, data: PollJobData, jobId: string | undefined): Promise<unknown>;
  deliver(this: void, data: DeliverJobData, jobId: string | undefined): Promise<DeliverOutcome>;
}

/** The poll queue's processor: cycles (from the scheduler) and polls (from the cycles); anything else is ignored. */
export function routePollJob(handlers: Pick<JobHandlers, 'runCycle' | 'pollIntegration'>, logger: Logger): (job: Job) => Promise<unknown> {
  return async (job) => {
    if (job.name === BULLMQ_NAMES.jobs.cycle) return handlers.runCycle(job.id ?? String(job.timestamp), job.id);
    if (job.name === BULLMQ_NAMES.jobs.poll) return handlers.pollIntegration(parsePollJobData(job.data), job.id);
    logger.warn({ jobId: job.id, name: job.name }, 'unknown job in the poll queue; ignored');
    return undefined;
  };
}

/**
 * The alerts queue's processor. `rateLimit` holds the whole queue back (every
 * replica) for Slack's Retry-After, and the job goes back to wait for it.
 */
export function routeDeliverJob(deliver: JobHandlers['deliver'], rateLimit: (ms: number) => Promise<void>): (job: Job) => Promise<DeliverOutcome> {
  return async (job) => {
    const outcome = await deliver(parseDeliverJobData(job.data), job.id);
    if (outcome.status === 'rate_limited') {
      await rateLimit(outcome.retryAfterMs);
      throw Worker.RateLimitError();
    }
    // A broken webhook pauses delivery: the head job is retried with the capped backoff, never dead-lettered.
    if (outcome.status === 'retry' || outcome.status === 'paused') throw outcome.error;
    // Given up (rejected by Slack, or past the retry horizon): the message is in the dead
    // letters; failing the job keeps it in BullMQ's failed set for inspection as well.
    if (outcome.status === 'dead') throw new UnrecoverableError(outcome.reason);
    return outcome;
  };
}
