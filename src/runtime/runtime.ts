/**
 * The BullMQ side of the service, in two steps. `openRuntime` opens the
 * queues, so the jobs can be built on its hand-offs (delivery, polls);
 * `start` then runs those jobs in workers, starts the HTTP server, registers
 * the poll schedule and keeps it, and returns the timed `close`.
 */
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { Logger } from 'pino';
import type { DeliveryQueue, InitMarker, PollQueue } from '../ports.js';

import { createBullmqDeliveryQueue } from './delivery-queue.js';
import type { JobHandlers } from './job-router.js';
import { createBullmqPollQueue } from './poll-queue.js';
import { openQueues } from './queues.js';
import { createScheduleKeeper } from './scheduler.js';
import { createShutdown } from './shutdown.js';
import { createWorkers, type WorkerSettings } from './workers.js';

export interface RuntimeDeps {
  readonly redis: RedisClient;
  /** QUEUE_PREFIX: the queues' keys live under it. */
  readonly prefix: string;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Tells a Redis that lost its data, so the schedule is registered again. */
  readonly initMarker: InitMarker;
  readonly settings: WorkerSettings & { readonly pollIntervalMs: number };
}

/** What `start` needs of the HTTP server: it listens before any job runs, and closes first on shutdown. */
export interface HttpHandle {
  readonly port: number;
  close(): Promise<void>;
}

export interface Runtime {
  readonly delivery: DeliveryQueue;
  readonly polls: PollQueue;
  /** Whether the poll schedule is known to be registered, for /readyz. */
  scheduleRegistered(this: void): boolean;
  /**
   * Starts the service: creates the workers (stopped), calls `listen` (if it
   * fails, everything is closed and its error rethrown), registers the
   * schedule (if that fails, HTTP is closed and the error rethrown), then
   * starts the keeper and the workers.
   */
  start(handlers: JobHandlers, listen: () => Promise<HttpHandle>): Promise<StartedRuntime>;
}

export interface StartedRuntime {
  readonly httpPort: number;
  /** Stops taking jobs, finishes or releases the current ones, closes HTTP and Redis, within the shutdown budget. */
  close(this: void): Promise<void>;
}

export function openRuntime(deps: RuntimeDeps): Runtime {
  const { redis, prefix, logger } = deps;
  const queues = openQueues({ connection: redis, prefix, logger });
  const schedule = createScheduleKeeper({
    queue: queues.poll,
    initMarker: deps.initMarker,
    logger,
    pollIntervalMs: deps.settings.pollIntervalMs,
    now: deps.now,
  });
  return {
    delivery: createBullmqDeliveryQueue(queues.alerts, queues.lane),
    polls: createBullmqPollQueue(queues.poll),
    scheduleRegistered: schedule.registered,
    async start(handlers, listen) {
      const workers = createWorkers({
        connection: redis,
        prefix,
        logger,
        handlers,
        settings: deps.settings,
        alertsQueue: queues.alerts,
        laneQueue: queues.lane,
      });
      // The HTTP server first: an address it cannot listen on stops start-up before any
      // job ran. /readyz says "not ready" until the schedule is registered below.
      const http = await listen().catch(async (error: unknown) => {
        await Promise.allSettled([workers.close(true), queues.close()]);
        redis.disconnect();
        throw error;
      });
      try {
        await schedule.ensure(true);
      } catch (error) {
        await http.close();
        throw error;
      }
      schedule.keep();
      workers.run();
      return { httpPort: http.port, close: createShutdown({ stopKeeper: schedule.stop, http, workers, queues, redis, logger }) };
    },
  };
}
