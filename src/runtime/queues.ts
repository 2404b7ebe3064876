/**
 * The BullMQ queues, on the service's one Redis connection: `poll` holds the
 * scheduled cycles and the polls they queue, `alerts` the delivery jobs of
 * the default route's outbox lane, and one more queue per other route
 * (job-names.ts alertsQueueName), opened when first asked for.
 */
import { Queue } from 'bullmq';
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { Logger } from 'pino';
import { BULLMQ_NAMES, alertsQueueName } from './job-names.js';

export interface Queues {
  readonly poll: Queue;
  readonly alerts: Queue;
  /** The delivery queue of a route's outbox lane (`alerts` for the default route). */
  lane(this: void, route: string): Queue;
  close(): Promise<void>;
}

export function openQueues(deps: { readonly connection: RedisClient; readonly prefix: string; readonly logger: Logger }): Queues {
  const { connection, prefix, logger } = deps;
  const poll = new Queue(BULLMQ_NAMES.queues.poll, { connection, prefix });
  const alerts = new Queue(BULLMQ_NAMES.queues.alerts, { connection, prefix });
  poll.on('error', (err) => logger.warn({ err }, 'poll queue error'));
  alerts.on('error', (err) => logger.warn({ err }, 'alerts queue error'));
  const lanes = new Map<string, Queue>([[alerts.name, alerts]]);
  return {
    poll,
    alerts,
    lane(route) {
      const name = alertsQueueName(route);
      let queue = lanes.get(name);
      if (queue === undefined) {
        queue = new Queue(name, { connection, prefix });
        queue.on('error', (err) => logger.warn({ err, route }, 'alerts queue error'));
        lanes.set(name, queue);
      }
      return queue;
    },
    async close() {
      await Promise.all([poll.close(), ...[...lanes.values()].map((q) => q.close())]);
    },
  };
}
