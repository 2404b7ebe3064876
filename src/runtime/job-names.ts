/**
 * Every name BullMQ stores for this service, in one place: renaming one
 * strands the jobs and the schedule that an older replica left in Redis.
 */
export const BULLMQ_NAMES = {
  /** Queue names, under QUEUE_PREFIX: poll cycles and polls; alert delivery. */
  queues: { poll: 'poll', alerts: 'alerts' },
  /** Job names: `cycle`, `poll` and `poll-project` (AMPERSAND_LIST_MODE=project) in the poll queue, `deliver` in the alerts queue. */
  jobs: { cycle: 'cycle', poll: 'poll', pollProject: 'poll-project', deliver: 'deliver' },
  /** The one job scheduler id: restarts, replicas and config changes all upsert this same one. */
  schedulerId: 'ampersand-poll-cycle',
} as const;

/**
 * The delivery queue of a route's outbox lane: `alerts` for the default route (the queue of the
 * release before routes, whose jobs it still holds), `alerts-<route>` for the others. Each queue
 * has its own limiter, so each webhook gets Slack's pace and one route's 429 holds only its own.
 */
export const alertsQueueName = (lane: string): string => (lane === 'default' || lane === 'slack' ? BULLMQ_NAMES.queues.alerts : `alerts-${lane}`);

/** The delivery job of an outbox entry is named after it, so kicking the same head twice queues one job. */
export const deliverJobId = (entryId: string): string => `deliver.${entryId}`;

/**
 * The entry id a delivery job's id names (the inverse of deliverJobId), or
 * undefined for an id no kick builds: none, BullMQ's own numbers, `deliver.` alone.
 */
export function entryIdOfDeliverJobId(jobId: string | undefined): string | undefined {
  const prefix = deliverJobId('');
  return jobId !== undefined && jobId.startsWith(prefix) && jobId.length > prefix.length ? jobId.slice(prefix.length) : undefined;
}

/** One queued-or-running poll per integration. Throws URIError on an id that is not well-formed UTF-16. */
export const pollDeduplicationId = (integrationId: string): string => `poll.${encodeURIComponent(integrationId)}`;

/** One queued-or-running poll per project (AMPERSAND_LIST_MODE=project). Throws URIError on an id that is not well-formed UTF-16. */
export const pollProjectDeduplicationId = (projectId: string): string => `poll-project.${encodeURIComponent(projectId)}`;
