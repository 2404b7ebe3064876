/**
 * The two BullMQ workers: the poll worker runs cycles and polls with
 * POLL_CONCURRENCY, the alerts worker delivers one message at a time at
 * SLACK_MESSAGES_PER_SECOND across every replica. Both are created stopped;
 * `run()` starts them once the schedule is registered.
 */
import { UnrecoverableError, Worker, type Queue } from 'bullmq';
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { Logger } from 'pino';
import { DeliveryRetryError } from './delivery-retry-error.js';
import { InvalidJobDataError } from './invalid-job-data-error.js';
import { BULLMQ_NAMES } from './job-names.js';
import { routeDeliverJob, routePollJob, type JobHandlers } from './job-router.js';

/** Slack retries back off exponentially from 1 s up to this. */
const MAX_SLACK_BACKOFF_MS = 5 * 60_000;

export interface WorkerSettings {
  readonly pollConcurrency: number;
  /** MONITOR_JOB_LOCK_SECONDS: a job whose process died is taken over after this. */
  readonly jobLockMs: number;
  readonly slackMessagesPerSecond: number;
}

export interface Workers {
  readonly poll: Worker;
  readonly alerts: Worker;
  run(): void;
  /** Waits for the running jobs; `force` releases them at once instead (their lock lapses and another replica retakes them). */
  close(force?: boolean): Promise<void>;
}

export function createWorkers(deps: {
  readonly connection: RedisClient;
  readonly prefix: string;
  readonly logger: Logger;
  readonly handlers: JobHandlers;
  readonly settings: WorkerSettings;
  /** Holds the whole alerts queue back on a Slack 429 (Worker#rateLimit is deprecated in BullMQ 6; the queue's sets the same key). */
  readonly alertsQueue: Pick<Queue, 'rateLimit'>;
}): Workers {
  const { connection, prefix, logger, handlers, settings, alertsQueue } = deps;
  const lockDuration = settings.jobLockMs;
  const poll = new Worker(BULLMQ_NAMES.queues.poll, routePollJob(handlers, logger), {
    connection,
    prefix,
    concurrency: settings.pollConcurrency,
    lockDuration,
    stalledInterval: lockDuration,
    autorun: false,
  });
  const alerts: Worker = new Worker(
    BULLMQ_NAMES.queues.alerts,
    routeDeliverJob(handlers.deliver, (ms) => alertsQueue.rateLimit(ms), logger),
    {
      connection,
      prefix,
      concurrency: 1,
      // About one message per second per webhook (SLACK_MESSAGES_PER_SECOND), across every replica.
      limiter: slackLimiter(settings.slackMessagesPerSecond),
      lockDuration,
      stalledInterval: lockDuration,
      // A delivery job whose process died is always taken over: failing it as "stalled too
      // often" would leave its message at the outbox head with no job to send it.
      maxStalledCount: 1_000_000,
      autorun: false,
      settings: { backoffStrategy: (attemptsMade: number) => Math.min(1000 * 2 ** Math.max(0, attemptsMade - 1), MAX_SLACK_BACKOFF_MS) },
    },
  );
  for (const worker of [poll, alerts]) {
    worker.on('error', (err) => logger.warn({ err }, 'worker error'));
    worker.on('failed', (job, err) => {
      // Failed sends (any channel) and dead letters are logged by the delivery job itself, with their reason;
      // anything else (Redis trouble, a bug, a bad payload) is logged here.
      const loggedByTheJob = err instanceof DeliveryRetryError || (err instanceof UnrecoverableError && !(err instanceof InvalidJobDataError));
      if (job?.name === BULLMQ_NAMES.jobs.deliver && loggedByTheJob) return;
      logger.error({ jobId: job?.id, name: job?.name, err }, 'job failed');
    });
  }
  return {
    poll,
    alerts,
    run() {
      void poll.run();
      void alerts.run();
    },
    async close(force = false) {
      await Promise.all([poll.close(force), alerts.close(force)]);
    },
  };
}

/** BullMQ's limiter counts jobs per window; one job sends one message. Exact for every rate parseConfig accepts. */
export function slackLimiter(perSecond: number): { max: number; duration: number } {
  return perSecond >= 1 ? { max: Math.round(perSecond), duration: 1000 } : { max: 1, duration: Math.round(1000 / perSecond) };
}
