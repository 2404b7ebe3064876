/**
 * A DeliveryQueue that records each kicked head (as `kick <id>` in the event
 * log), and throws from `kick` while `failWith` is set, as a Redis that refuses
 * the job would.
 */
import type { DeliveryQueue } from '../../src/ports.js';
import { createEventLog, type EventLog } from './event-log.js';

export interface RecordingDeliveryQueue extends DeliveryQueue {
  /** Every head id passed to kick, in order, including kicks that threw. */
  readonly kicked: readonly string[];
  failWith: Error | undefined;
}

export function createRecordingDeliveryQueue(log: EventLog = createEventLog()): RecordingDeliveryQueue {
  const kicked: string[] = [];
  const queue: RecordingDeliveryQueue = {
    kicked,
    failWith: undefined,
    async kick(headId, lane) {
      kicked.push(headId);
      log.add(lane === undefined ? `kick ${headId}` : `kick ${headId} (${lane})`);
      if (queue.failWith) throw queue.failWith;
    },
  };
  return queue;
}
