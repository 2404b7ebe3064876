/**
 * What the jobs need from the world, by role. Adapters and the runtime
 * implement these; the jobs see only them.
 */
import type { AmpersandApiError } from './errors/ampersand-api-error.js';

// --- runtime ports ---

/**
 * The outbox hand-off: makes sure the outbox head has a delivery job. Callers
 * pass an id they read as the head (from a commit, a pop or LINDEX): the
 * outbox only appends at the tail and pops the head, so such an entry stays
 * head until it is delivered, and its job, named after it, can never be
 * completed before that. Kicking the same head twice queues one job.
 */
export interface DeliveryQueue {
  kick(headId: string): Promise<void>;
}

/** Queues polls for the workers; a poll still queued or running for an integration is not doubled. */
export interface PollQueue {
  enqueue(integrationId: string, cycleId: string): Promise<void>;
}

/** Told about every poll outcome; it tracks the upstream's health (readiness, api_up, degraded alerts). */
export interface PollObserver {
  pollSucceeded(integrationId: string, cycleId: string): Promise<void>;
  pollFailed(integrationId: string, cycleId: string, error: AmpersandApiError): Promise<void>;
}

/** The poll observer, also told which integrations each cycle lists. */
export interface CycleObserver extends PollObserver {
  /**
   * Told the integrations a cycle lists (after a discovery that succeeded, or
   * the configured ones): entries of integrations missing for forgetAfterMs are
   * dropped, and an open alert of one is resolved as "no longer monitored".
   */
  integrationsListed(integrationIds: readonly string[]): Promise<void>;
}
