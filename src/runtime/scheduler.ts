/**
 * The poll schedule: one BullMQ job scheduler that starts a `cycle` job every
 * POLL_INTERVAL_SECONDS. It is upserted at start (a new interval takes
 * effect) and, by the keeper, registered again whenever it is found missing
 * (Redis restarted without persistence); schedulers of other ids are removed.
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { InitMarker } from '../ports.js';
import { toError } from '../core/errors/to-error.js';
import { BULLMQ_NAMES } from './job-names.js';

export interface ScheduleKeeper {
  /** Registers the schedule; `force` upserts it even when it is there. Throws what Redis throws. */
  ensure(force: boolean): Promise<void>;
  /** Checks the schedule every interval (at most 15 s) until stop(); a failed check marks it unregistered. */
  keep(): void;
  stop(this: void): void;
  /** Whether the schedule is known to be registered, for /readyz. */
  registered(this: void): boolean;
}

export function createScheduleKeeper(deps: {
  readonly queue: Queue;
  readonly initMarker: InitMarker;
  readonly logger: Logger;
  readonly pollIntervalMs: number;
  readonly now: () => Date;
}): ScheduleKeeper {
  const { queue, initMarker, logger } = deps;
  const id = BULLMQ_NAMES.schedulerId;
  let registered = false;
  let everInitialised = false;
  let keeper: NodeJS.Timeout | undefined;

  const ensure = async (force: boolean): Promise<void> => {
    const initialised = await initMarker.isInitialised();
    if (!initialised && everInitialised) {
      logger.warn(
        'Redis holds no state of this deployment any more (restarted without persistence?): registering the schedule again; every integration starts a fresh baseline, without per-installation alerts',
      );
    }
    if (force || !initialised || !(await queue.getJobScheduler(id))) {
      await queue.upsertJobScheduler(
        id,
        { every: deps.pollIntervalMs },
        { name: BULLMQ_NAMES.jobs.cycle, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
      for (const other of await queue.getJobSchedulers()) {
        if (other.key !== id && other.id !== id) {
          await queue.removeJobScheduler(other.key);
          logger.info({ scheduler: other.key }, 'removed a stale job scheduler');
        }
      }
    }
    await initMarker.markInitialised(deps.now().getTime());
    everInitialised = true;
    registered = true;
  };

  return {
    ensure,
    keep() {
      keeper = setInterval(
        () => {
          ensure(false).catch((error: unknown) => {
            registered = false;
            logger.warn({ err: toError(error) }, 'could not check the job schedule');
          });
        },
        Math.min(deps.pollIntervalMs, 15_000),
      );
      keeper.unref();
    },
    stop() {
      clearInterval(keeper);
    },
    registered: () => registered,
  };
}
