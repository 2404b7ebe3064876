/**
 * One poll of a whole project (AMPERSAND_LIST_MODE=project): one
 * `listInstallationsForProject` call, split by integration (core
 * splitProjectListing), and each integration the cycle listed committed by
 * the same poll as in integration mode, with its part of the listing: same
 * plan, same alerts, same metrics. An integration with no installation in the
 * listing gets its empty poll committed. When the call or the body fails,
 * every integration of the project has a failed poll (counted, and told to
 * the upstream tracker), never an empty listing that would read as "all gone".
 */
import { AmpersandApiError, internalError } from '../src/core/errors/ampersand-api-error.js';
import { splitProjectListing } from '../src/core/project-listing.js';
import type { AmpersandClient, AmpersandProjects, Logger } from '../src/ports.js';
import type { ListingSource, PollJobData, PollOutcome } from './poll-integration.js';

export interface PollProjectJobData {
  /** The watched project, as configured. */
  readonly projectId: string;
  readonly cycleId: string;
  /** The integrations the cycle listed for the project, with their names when it knew them. */
  readonly integrations: readonly { readonly id: string; readonly name?: string }[];
}

export type ProjectPollOutcome =
  | { readonly status: 'polled'; readonly listed: number; readonly outcomes: Readonly<Record<string, PollOutcome['status']>> }
  | { readonly status: 'skipped'; readonly reason: 'project_not_watched' };

export interface PollProjectDeps {
  readonly ampersand: AmpersandProjects<Pick<AmpersandClient, 'listInstallationsForProject'>>;
  /** The integration poll (jobs/poll-integration.ts), given the integration's part of the listing. */
  readonly pollIntegration: (data: PollJobData, jobId: string | undefined, listing: ListingSource) => Promise<PollOutcome>;
  readonly logger: Logger;
  /** Integrations committed at once: each commit is a Redis round trip or two, and a few overlap well. */
  readonly concurrency?: number;
}

export function createPollProject(deps: PollProjectDeps) {
  const concurrency = deps.concurrency ?? 4;
  /**
   * Polls every integration of the project from one listing. An integration whose poll throws (an
   * internal error, reported by the integration poll) does not stop the others; the job then
   * fails with the first such error, once they all ran.
   */
  return async function pollProject(data: PollProjectJobData, jobId: string | undefined): Promise<ProjectPollOutcome> {
    const { projectId, cycleId } = data;
    const log = deps.logger.child({ projectId, jobId, cycleId });
    const client = deps.ampersand.forProject(projectId);
    if (client === undefined) {
      log.warn(`project ${projectId} is no longer watched; this project poll is dropped`);
      return { status: 'skipped', reason: 'project_not_watched' };
    }
    const ids = data.integrations.map((i) => i.id);
    let sources: (id: string) => ListingSource;
    let listed = 0;
    try {
      const body = await client.listInstallationsForProject();
      const split = splitProjectListing(body, ids);
      if (!split.ok) throw new AmpersandApiError(`installations of project ${projectId}: ${split.error}`, 'invalid_body');
      listed = Array.isArray(body) ? body.length : 0;
      if (split.others > 0) log.debug({ others: split.others }, `${split.others} installation(s) of integrations not watched left out`);
      sources = (id) => ({ body: split.byIntegration.get(id) ?? [] });
    } catch (error) {
      // A bug of our own (not the API's) fails them too, as internal_error, rather than leave them uncounted.
      if (!(error instanceof AmpersandApiError)) log.error({ err: error }, `project listing failed with an internal error: ${internalError(error).message}`);
      const failure = error instanceof AmpersandApiError ? error : internalError(error);
      // Each integration's poll fails with it: counted, logged and told to the upstream tracker as its own.
      sources = () => ({ error: failure });
    }

    const outcomes: Record<string, PollOutcome['status']> = {};
    const failures: unknown[] = [];
    const queue = [...data.integrations];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const poll: PollJobData = { integrationId: next.id, projectId, cycleId, ...(next.name === undefined ? {} : { integrationName: next.name }) };
        try {
          outcomes[next.id] = (await deps.pollIntegration(poll, jobId, sources(next.id))).status;
        } catch (error) {
          failures.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
    if (failures.length > 0) throw failures[0];
    log.debug({ listed, integrations: ids.length }, 'project poll committed its integrations');
    return { status: 'polled', listed, outcomes };
  };
}
