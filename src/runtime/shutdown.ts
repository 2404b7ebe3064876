/**
 * The timed shutdown: the process must exit within 10 s of SIGTERM, whatever
 * Redis, Slack or an HTTP client does, and a job that can finish should.
 */
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { Logger } from 'pino';
import { delay } from './delay.js';
import type { Queues } from './queues.js';
import type { Workers } from './workers.js';

/** How long shutdown waits for running jobs; the process must exit within 10 s. */
const SHUTDOWN_GRACE_MS = 7500;
/** What releasing jobs, closing the queues, HTTP and Redis may take together after that grace: 9 s in all, 1 s short of the limit. */
const AFTER_GRACE_BUDGET_MS = 1500;

export interface ShutdownDeps {
  /** Stops the schedule keeper. */
  readonly stopKeeper: () => void;
  readonly http: { close(): Promise<void> };
  readonly workers: Pick<Workers, 'close'>;
  readonly queues: Pick<Queues, 'close'>;
  readonly redis: RedisClient;
  readonly logger: Logger;
}

/** Returns `close`: stops taking jobs, finishes or releases the current ones, closes HTTP and Redis. Calls after the first share its promise. */
export function createShutdown(deps: ShutdownDeps): () => Promise<void> {
  const { http, workers, queues, redis, logger } = deps;
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      deps.stopKeeper();
      // HTTP first: it needs nothing else, and a client that holds a connection open
      // (a half-sent request, a pipelined backlog) is cut off within its short grace,
      // while the jobs finish, rather than at the end of the deadline.
      const httpClosed = http.close();
      // Finish the running jobs if they end soon; otherwise release them (their
      // lock lapses and another replica retakes them: commits are versioned). The
      // grace outlasts the default Slack timeout (5 s), so a send in flight ends
      // with its pop rather than being cut off between Slack's OK and the pop.
      // Without Redis no job can finish (its commit needs Redis), so there is nothing to wait for.
      const grace = redis.status === 'ready' ? SHUTDOWN_GRACE_MS : 0;
      const graceful = workers.close();
      const finished = await Promise.race([graceful.then(() => true), delay(grace).then(() => false)]);
      // Every step after the grace shares one budget, so their waits cannot add up past the deadline.
      const deadline = Date.now() + AFTER_GRACE_BUDGET_MS;
      const budgetLeft = (): Promise<void> => delay(Math.max(0, deadline - Date.now()));
      if (!finished) {
        logger.warn(`jobs still running after ${grace} ms; releasing them`);
        await Promise.race([workers.close(true), budgetLeft()]);
      }
      await Promise.race([queues.close(), budgetLeft()]);
      await Promise.race([httpClosed, budgetLeft()]);
      // QUIT waits for a reply that never comes while Redis is down.
      const quit = await Promise.race([
        redis.quit().then(
          () => true,
          () => false,
        ),
        budgetLeft().then(() => false),
      ]);
      if (!quit) redis.disconnect();
    })();
    return closing;
  };
}
