/**
 * What a worker does with a job it took: check its data, hand it to the job
 * by name, and turn the job's outcome into BullMQ's terms (complete, retry
 * with backoff, rate limit the queue, fail for good).
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { DeliverJobData, DeliverOutcome } from '../../jobs/deliver-notification.js';
import type { PollJobData } from '../../jobs/poll-integration.js';
import type { PollProjectJobData } from '../../jobs/poll-project.js';
import { DeliveryRetryError } from './delivery-retry-error.js';
import { parsePollJobData, parsePollProjectJobData, resolveDeliverJob } from './job-data.js';
import { BULLMQ_NAMES } from './job-names.js';

/** The jobs the workers run, as the jobs/ modules build them: closures, so each can be handed on alone. */
export interface JobHandlers {
  runCycle(this: void, cycleId: string, jobId: string | undefined): Promise<unknown>;
  pollIntegration(this: void, data: PollJobData, jobId: string | undefined): Promise<unknown>;
  pollProject(this: void, data: PollProjectJobData, jobId: string | undefined): Promise<unknown>;
  /** Delivers the default route's outbox lane. */
  deliver(this: void, data: DeliverJobData, jobId: string | undefined): Promise<DeliverOutcome>;
  /** Delivers the lane of each other route, by route name; none without routes. */
  readonly deliverLanes?: ReadonlyMap<string, (this: void, data: DeliverJobData, jobId: string | undefined) => Promise<DeliverOutcome>>;
}

/** The poll queue's processor: cycles (from the scheduler) and polls of integrations or projects (from the cycles); anything else is ignored. */
export function routePollJob(handlers: Pick<JobHandlers, 'runCycle' | 'pollIntegration' | 'pollProject'>, logger: Logger): (job: Job) => Promise<unknown> {
  return async (job) => {
    if (job.name === BULLMQ_NAMES.jobs.cycle) return handlers.runCycle(job.id ?? String(job.timestamp), job.id);
    if (job.name === BULLMQ_NAMES.jobs.poll) return handlers.pollIntegration(parsePollJobData(job.data), job.id);
    if (job.name === BULLMQ_NAMES.jobs.pollProject) return handlers.pollProject(parsePollProjectJobData(job.data), job.id);
    logger.warn({ jobId: job.id, name: job.name }, 'unknown job in the poll queue; ignored');
    return undefined;
  };
}

/**
 * The shortest and longest hold of a Slack 429. Retry-After `0` or a past HTTP
 * date still comes with a refusal: retrying at once would only meet another
 * 429, so the hold is at least the 1 s the notifier assumes for a missing
 * Retry-After (Slack's documented pace); BullMQ also sets the limiter key with
 * `PX`, which Redis refuses for 0 ("invalid expire time"), failing the job
 * instead of holding it. A huge value (a bogus header) would be refused the
 * same way, or hold every alert for days: at most the longest Slack backoff
 * (5 min), after which a still-limited webhook just answers 429 again.
 */
const RATE_LIMIT_HOLD_MS = { min: 1000, max: 5 * 60_000 } as const;

/** The queue's hold for a 429's `retryAfterMs`: a whole number of ms within RATE_LIMIT_HOLD_MS. */
export function rateLimitHoldMs(retryAfterMs: number): number {
  if (!Number.isFinite(retryAfterMs)) return RATE_LIMIT_HOLD_MS.min;
  return Math.min(RATE_LIMIT_HOLD_MS.max, Math.max(RATE_LIMIT_HOLD_MS.min, Math.ceil(retryAfterMs)));
}

/**
 * The alerts queue's processor. `rateLimit` holds the whole queue back (every
 * replica) for Slack's Retry-After, and the job goes back to wait for it. The
 * entry to deliver comes from the job's id when it names one (see resolveDeliverJob).
 */
export function routeDeliverJob(
  deliver: JobHandlers['deliver'],
  rateLimit: (ms: number) => Promise<void>,
  logger: Logger,
): (job: Pick<Job, 'id' | 'data'>) => Promise<DeliverOutcome> {
  return async (job) => {
    const { data, overridden } = resolveDeliverJob(job.id, job.data);
    if (overridden !== undefined) logger.warn({ jobId: job.id, entryId: data.entryId }, overridden);
    const outcome = await deliver(data, job.id);
    if (outcome.status === 'rate_limited') {
      await rateLimit(rateLimitHoldMs(outcome.retryAfterMs));
      throw Worker.RateLimitError();
    }
    // A broken webhook pauses delivery: the head job is retried with the capped backoff, never dead-lettered.
    if (outcome.status === 'retry' || outcome.status === 'paused') throw new DeliveryRetryError(outcome.error);
    // Given up (rejected by Slack, or past the retry horizon): the message is in the dead
    // letters; failing the job keeps it in BullMQ's failed set for inspection as well.
    if (outcome.status === 'dead') throw new UnrecoverableError(outcome.reason);
    return outcome;
  };
}
