/**
 * The outbox hand-off on BullMQ: one `deliver` job per outbox head, named
 * after it, so that every caller that read the same head queues one job.
 */
import type { Queue } from 'bullmq';
import type { DeliverJobData } from '../../jobs/deliver-notification.js';
import type { DeliveryQueue } from '../ports.js';
import { BULLMQ_NAMES, deliverJobId } from './job-names.js';

export function createBullmqDeliveryQueue(alerts: Queue): DeliveryQueue {
  return {
    async kick(headId) {
      const data: DeliverJobData = { entryId: headId };
      await alerts.add(BULLMQ_NAMES.jobs.deliver, data, {
        jobId: deliverJobId(headId),
        // The retry horizon ends retries, not the attempt count.
        attempts: Number.MAX_SAFE_INTEGER,
        backoff: { type: 'capped-exponential' },
        removeOnComplete: { count: 1000 },
        removeOnFail: { age: 7 * 86_400 },
      });
    },
  };
}
