/**
 * The BullMQ workers: the poll worker runs cycles and polls with
 * POLL_CONCURRENCY; one alerts worker per route's outbox lane (the default
 * route's on the `alerts` queue) delivers one message at a time at
 * SLACK_MESSAGES_PER_SECOND across every replica, each with its own limiter,
 * so every webhook gets Slack's pace and one route's 429 or revoked webhook
 * holds up only its own lane. All are created stopped; `run()` starts them
 * once the schedule is registered.
 */
import { UnrecoverableError, Worker, type Queue } from 'bullmq';
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { Logger } from 'pino';
import { DeliveryRetryError } from './delivery-retry-error.js';
import { InvalidJobDataError } from './invalid-job-data-error.js';
import { BULLMQ_NAMES, alertsQueueName } from './job-names.js';
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
  /** The alerts workers of the other routes' lanes, by route. */
  readonly lanes: ReadonlyMap<string, Worker>;
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
  /** The delivery queue of a route's lane, held back likewise on its webhook's 429. */
  readonly laneQueue?: (route: string) => Pick<Queue, 'rateLimit'>;
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
  const alertsWorker = (queueName: string, deliver: JobHandlers['deliver'], queue: Pick<Queue, 'rateLimit'>, log: Logger): Worker =>
    new Worker(
      queueName,
      routeDeliverJob(deliver, (ms) => queue.rateLimit(ms), log),
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
  const alerts = alertsWorker(BULLMQ_NAMES.queues.alerts, handlers.deliver, alertsQueue, logger);
  const lanes = new Map<string, Worker>();
  for (const [route, deliver] of handlers.deliverLanes ?? []) {
    const queue = deps.laneQueue?.(route);
    if (queue === undefined) throw new Error(`no delivery queue for route ${route}`);
    lanes.set(route, alertsWorker(alertsQueueName(route), deliver, queue, logger.child({ route })));
  }
  const all = [poll, alerts, ...lanes.values()];
  for (const worker of all) {
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
    lanes,
    run() {
      for (const worker of all) void worker.run();
    },
    async close(force = false) {
      await Promise.all(all.map((worker) => worker.close(force)));
    },
  };
}

/** BullMQ's limiter counts jobs per window; one job sends one message. Exact for every rate parseConfig accepts. */
export function slackLimiter(perSecond: number): { max: number; duration: number } {
  return perSecond >= 1 ? { max: Math.round(perSecond), duration: 1000 } : { max: 1, duration: Math.round(1000 / perSecond) };
}
