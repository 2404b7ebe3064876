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
  /** The project each queued poll named, in the order of `enqueued` ('-' for none). */
  readonly enqueuedProjects: readonly string[];
  /** The project polls queued (AMPERSAND_LIST_MODE=project), as `<projectId> <cycleId> <id>,<id>…`, in order. */
  readonly enqueuedProjectPolls: readonly string[];
  /** Integration ids (or project ids, for project polls) whose poll is not queued, with this error. */
  readonly failing: Map<string, Error>;
}

export function createRecordingPollQueue(log: EventLog = createEventLog()): RecordingPollQueue {
  const enqueued: string[] = [];
  const enqueuedProjects: string[] = [];
  const enqueuedProjectPolls: string[] = [];
  const failing = new Map<string, Error>();
  return {
    enqueued,
    enqueuedProjects,
    enqueuedProjectPolls,
    failing,
    async enqueueProjects(requests, cycleId) {
      log.add(`enqueue projects ${requests.map((r) => r.projectId).join(',')}`);
      const notQueued = [];
      for (const { projectId, integrationIds } of requests) {
        const error = failing.get(projectId);
        if (error) notQueued.push({ projectId, error });
        else enqueuedProjectPolls.push(`${projectId} ${cycleId} ${integrationIds.join(',')}`);
      }
      return notQueued;
    },
    async enqueueAll(integrationIds, cycleId, names, projects) {
      log.add(`enqueue ${integrationIds.join(',')}`);
      const notQueued = [];
      for (const integrationId of integrationIds) {
        const error = failing.get(integrationId);
        if (error) notQueued.push({ integrationId, error });
        else {
          const name = names?.get(integrationId);
          enqueued.push(`${integrationId} ${cycleId}${name === undefined ? '' : ` "${name}"`}`);
          enqueuedProjects.push(projects?.get(integrationId) ?? '-');
        }
      }
      return notQueued;
    },
  };
}
