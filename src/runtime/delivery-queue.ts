/**
 * The outbox hand-off on BullMQ: one `deliver` job per outbox head, named
 * after it, so that every caller that read the same head queues one job, in
 * the delivery queue of the head's lane (`laneQueue`; the default route's
 * queue, `alerts`, when a kick names no lane).
 */
import type { Queue } from 'bullmq';
import type { DeliverJobData } from '../../jobs/deliver-notification.js';
import type { DeliveryQueue } from '../ports.js';
import { BULLMQ_NAMES, deliverJobId } from './job-names.js';

export function createBullmqDeliveryQueue(alerts: Queue, laneQueue: (route: string) => Queue = () => alerts): DeliveryQueue {
  return {
    async kick(headId, lane) {
      const data: DeliverJobData = { entryId: headId, ...(lane === undefined ? {} : { lane }) };
      await (lane === undefined ? alerts : laneQueue(lane)).add(BULLMQ_NAMES.jobs.deliver, data, {
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
