/**
 * A PollQueue that records each enqueued poll (as `enqueue <id>` in the event
 * log), and throws for the integrations a test names, as an id BullMQ cannot
 * take or a refused command would.
 */
import type { PollQueue } from '../../src/ports.js';
import { createEventLog, type EventLog } from './event-log.js';

export interface RecordingPollQueue extends PollQueue {
  /** The polls queued, as `<integrationId> <cycleId>` (then `"<name>"` when one was given), in order; failed ones are not listed. */
  readonly enqueued: readonly string[];
  /** Integration ids whose enqueue throws this error. */
  readonly failing: Map<string, Error>;
}

export function createRecordingPollQueue(log: EventLog = createEventLog()): RecordingPollQueue {
  const enqueued: string[] = [];
  const failing = new Map<string, Error>();
  return {
    enqueued,
    failing,
    async enqueue(integrationId, cycleId, integrationName) {
      log.add(`enqueue ${integrationId}`);
      const error = failing.get(integrationId);
      if (error) throw error;
      enqueued.push(`${integrationId} ${cycleId}${integrationName === undefined ? '' : ` "${integrationName}"`}`);
    },
  };
}
