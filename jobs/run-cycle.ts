/**
 * One poll cycle, started by the job scheduler: decide which integrations to
 * poll (configured, or discovered from the API), forget the ones that are
 * gone, queue one poll job per integration with its name (from the same list,
 * asked for the names alone when the ids are configured), and make sure the
 * outbox is being delivered (a process may have died between a commit and its
 * hand-off).
 */
import { MAX_WARNING_EXAMPLES, parseIntegrationList } from '../src/core/installation.js';
import { integrationNames } from '../src/core/integration-names.js';
import { AmpersandApiError } from '../src/core/errors/ampersand-api-error.js';
import { firstLine } from '../src/core/errors/to-error.js';
import { PROJECT_WIDE_LABELS } from '../src/core/upstream-policy.js';
import type { AmpersandClient, CycleObserver, DeliveryQueue, Logger, Metrics, Outbox, PollQueue, SnapshotStore } from '../src/ports.js';
import { reportInternalError } from './report-internal-error.js';

/** The integration_id label of errors of the discovery call, which concerns no single integration. */
export const DISCOVERY_LABEL = PROJECT_WIDE_LABELS.discovery;
/** The integration_id label of an internal error of the cycle itself (Redis refused a command, a bug). */
export const CYCLE_LABEL = PROJECT_WIDE_LABELS.cycle;

export interface RunCycleDeps {
  readonly ampersand: Pick<AmpersandClient, 'listIntegrations'>;
  readonly snapshots: Pick<SnapshotStore, 'retain'>;
  readonly outbox: Pick<Outbox, 'headId'>;
  readonly metrics: Pick<Metrics, 'recordPollError'>;
  readonly observer: CycleObserver;
  readonly logger: Logger;
  readonly projectId: string;
  /** Empty: discover every integration of the project each cycle. */
  readonly integrationIds: readonly string[];
  /** Queues the polls of the cycle; a poll still queued or running for an integration is not doubled. */
  readonly polls: PollQueue;
  readonly delivery: DeliveryQueue;
  /** An integration missing from the list and not polled for this long is forgotten. */
  readonly forgetAfterMs: number;
  readonly now: () => Date;
}

export type CycleOutcome =
  /** `notQueued`: how many integrations could not be queued (each counted as a failed poll). */
  | { readonly status: 'queued'; readonly integrations: readonly string[]; readonly notQueued: number }
  | { readonly status: 'discovery_failed'; readonly reason: string };

export function createRunCycle(deps: RunCycleDeps) {
  return async function runCycle(cycleId: string, jobId: string | undefined): Promise<CycleOutcome> {
    const log = deps.logger.child({ jobId, cycleId });
    try {
      return await cycle(cycleId, log);
    } catch (error) {
      // Redis refusing a command (OOM), a RangeError…: a cycle that queued no poll is a failed one.
      await reportInternalError(deps, log, 'cycle', CYCLE_LABEL, cycleId, error);
      throw error;
    }
  };

  /** The integrations' names in a list body; a name that cannot be read only costs that integration its name. */
  function namesOf(body: unknown, log: Logger): ReadonlyMap<string, string> {
    const result = integrationNames(body);
    if (!result.ok) return new Map();
    if (result.warnings.length > 0) log.debug({ warnings: result.warnings.slice(0, MAX_WARNING_EXAMPLES) }, 'integration names: some cannot be shown');
    return result.names;
  }

  /** The names, for configured ids: one listIntegrations per cycle, whose failure (logged) leaves the messages with ids. */
  async function namesSoftly(log: Logger): Promise<ReadonlyMap<string, string>> {
    try {
      return namesOf(await deps.ampersand.listIntegrations(), log);
    } catch (error) {
      // Not `reason`: that field names the outcome of a poll or a discovery, which this is not.
      log.info(
        { namesReason: error instanceof AmpersandApiError ? error.reason : 'internal_error' },
        `integration names not read; messages show ids: ${firstLine(error)}`,
      );
      return new Map();
    }
  }

  async function cycle(cycleId: string, log: Logger): Promise<CycleOutcome> {
    // Delivery first, before anything that talks to Ampersand or the upstream tracker.
    const head = await deps.outbox.headId();
    if (head !== undefined) await deps.delivery.kick(head);

    let ids = deps.integrationIds;
    let names: ReadonlyMap<string, string>;
    if (ids.length === 0) {
      try {
        const body = await deps.ampersand.listIntegrations();
        const parsed = parseIntegrationList(body);
        if (!parsed.ok) throw new AmpersandApiError(`integration list: ${parsed.error}`, 'invalid_body');
        ids = parsed.ids;
        names = namesOf(body, log);
        if (parsed.skipped.length > 0) {
          const examples = parsed.skipped.slice(0, MAX_WARNING_EXAMPLES).map((i) => `integrations[${i}]`);
          log.warn(
            { skipped: parsed.skipped.length, examples },
            `integration list: ${parsed.skipped.length} id(s) not well-formed UTF-16, skipped (e.g. ${examples.join(', ')})`,
          );
        }
      } catch (error) {
        if (!(error instanceof AmpersandApiError)) throw error;
        deps.metrics.recordPollError(deps.projectId, DISCOVERY_LABEL, error.reason);
        log.error({ reason: error.reason, requestId: error.problem?.requestId }, `integration discovery failed; no poll this cycle: ${error.message}`);
        await deps.observer.pollFailed(DISCOVERY_LABEL, cycleId, error);
        return { status: 'discovery_failed', reason: error.reason };
      }
    } else {
      // Configured ids: the list is asked for the names only, and a failure only costs the names.
      names = await namesSoftly(log);
    }
    const dropped = await deps.snapshots.retain(ids, deps.now().getTime() - deps.forgetAfterMs);
    if (dropped.length > 0) log.info({ dropped }, 'integrations no longer monitored; their state and series are removed');
    // One round trip for the whole cycle. A poll that could not be queued counts as a failed
    // poll of its integration; the others are queued all the same.
    const notQueued = await deps.polls.enqueueAll(ids, cycleId, names);
    for (const { integrationId, error } of notQueued) {
      await reportInternalError(deps, log.child({ integrationId }), 'enqueue', integrationId, cycleId, error);
    }
    // Only with a list we could read: a failed discovery returned above.
    await deps.observer.integrationsListed(ids);
    log.debug({ integrations: ids.length, notQueued: notQueued.length }, 'cycle queued its polls');
    return { status: 'queued', integrations: ids, notQueued: notQueued.length };
  }
}
