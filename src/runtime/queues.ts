/**
 * The two BullMQ queues, on the service's one Redis connection: `poll` holds
 * the scheduled cycles and the polls they queue, `alerts` the delivery jobs.
 */
import { Queue } from 'bullmq';
import type { RedisClient } from '../adapters/redis/redis-client.js';
import type { Logger } from 'pino';
import { BULLMQ_NAMES } from './job-names.js';

export interface Queues {
  readonly poll: Queue;
  readonly alerts: Queue;
  close(): Promise<void>;
}

export function openQueues(deps: { readonly connection: RedisClient; readonly prefix: string; readonly logger: Logger }): Queues {
  const { connection, prefix, logger } = deps;
  const poll = new Queue(BULLMQ_NAMES.queues.poll, { connection, prefix });
  const alerts = new Queue(BULLMQ_NAMES.queues.alerts, { connection, prefix });
  poll.on('error', (err) => logger.warn({ err }, 'poll queue error'));
  alerts.on('error', (err) => logger.warn({ err }, 'alerts queue error'));
  return {
    poll,
    alerts,
    async close() {
      await Promise.all([poll.close(), alerts.close()]);
    },
  };
}
