/**
 * A PollQueue that records each call (as `enqueue <id>,<id>…` in the event
 * log: one call, one round trip) and each poll queued, and reports the
 * integrations a test names as not queued, as an id BullMQ cannot take or a
 * refused command would.
 */
import type { PollQueue } from '../../src/ports.js';
import { createEventLog, type EventLog } from './event-log.js';

export interface RecordingPollQueue extends PollQueue {
  /** The polls queued, as `<integrationId> <cycleId>` (then `"<name>"` when one was given), in order; the ones not queued are not listed. */
  readonly enqueued: readonly string[];
  /** Integration ids whose poll is not queued, with this error. */
  readonly failing: Map<string, Error>;
}

export function createRecordingPollQueue(log: EventLog = createEventLog()): RecordingPollQueue {
  const enqueued: string[] = [];
  const failing = new Map<string, Error>();
  return {
    enqueued,
    failing,
    async enqueueAll(integrationIds, cycleId, names) {
      log.add(`enqueue ${integrationIds.join(',')}`);
      const notQueued = [];
      for (const integrationId of integrationIds) {
        const error = failing.get(integrationId);
        if (error) notQueued.push({ integrationId, error });
        else {
          const name = names?.get(integrationId);
          enqueued.push(`${integrationId} ${cycleId}${name === undefined ? '' : ` "${name}"`}`);
        }
      }
      return notQueued;
    },
  };
}
