/**
 * A job helper shared by the poll and the cycle jobs, in its own module so
 * that a job never imports another job's entry module.
 */
import { internalError } from '../src/core/errors/ampersand-api-error.js';
import { toError } from '../src/core/errors/to-error.js';
import type { Logger, Metrics, PollObserver } from '../src/ports.js';

/**
 * Counts an exception that is not the API's (Redis refused a command, a bug,
 * corrupt state) as `internal_error` and tells the observer, so it counts as a failed poll: otherwise
 * /readyz and ampersand_api_up would not notice. The caller rethrows the
 * original error; if the observer cannot record it either (Redis is down),
 * that is logged, not thrown, so the original error is not masked.
 */
export async function reportInternalError(
  deps: { readonly observer: PollObserver; readonly metrics: Pick<Metrics, 'recordPollError'> },
  log: Logger,
  what: 'poll' | 'cycle' | 'enqueue',
  /** The watched project (as configured) whose poll or cycle failed. */
  projectId: string,
  integrationId: string,
  cycleId: string,
  error: unknown,
): Promise<void> {
  deps.metrics.recordPollError(projectId, integrationId, 'internal_error');
  const wrapped = internalError(error);
  log.error({ err: error, reason: wrapped.reason }, `${what} failed with an internal error: ${wrapped.message}`);
  try {
    await deps.observer.pollFailed(projectId, integrationId, cycleId, wrapped);
  } catch (observerError) {
    log.error({ err: toError(observerError) }, 'could not record the internal error as a failed poll');
  }
}
