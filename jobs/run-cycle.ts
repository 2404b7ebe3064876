/**
 * One poll cycle, started by the job scheduler: for each watched project,
 * decide which integrations to poll (configured, or discovered from the API),
 * each project on its own so that one that cannot be read leaves the others
 * polled; forget the integrations that are gone; queue the polls with the
 * integrations' names (from the same list, asked for the names alone when the
 * ids are configured): one poll job per integration, or with
 * AMPERSAND_LIST_MODE=project one per project, which reads the whole project in
 * one call; and make sure the outbox is being delivered (a process may have
 * died between a commit and its hand-off).
 */
import type { ProjectConfig } from '../src/core/monitor-config.js';
import { MAX_WARNING_EXAMPLES, parseIntegrationList } from '../src/core/installation.js';
import { integrationNames } from '../src/core/integration-names.js';
import { AmpersandApiError } from '../src/core/errors/ampersand-api-error.js';
import { firstLine } from '../src/core/errors/to-error.js';
import { PROJECT_WIDE_LABELS } from '../src/core/upstream-policy.js';
import type { AmpersandClient, AmpersandProjects, CycleObserver, DeliveryQueue, Logger, Metrics, Outbox, PollQueue, SnapshotStore } from '../src/ports.js';
import { reportInternalError } from './report-internal-error.js';

/** The integration_id label of errors of the discovery call, which concerns no single integration. */
export const DISCOVERY_LABEL = PROJECT_WIDE_LABELS.discovery;
/** The integration_id label of an internal error of the cycle itself (Redis refused a command, a bug). */
export const CYCLE_LABEL = PROJECT_WIDE_LABELS.cycle;

export interface RunCycleDeps {
  readonly ampersand: AmpersandProjects<Pick<AmpersandClient, 'listIntegrations'>>;
  readonly snapshots: Pick<SnapshotStore, 'retain'>;
  readonly outbox: Pick<Outbox, 'headId'>;
  /**
   * The outbox lane of each route of the monitor configuration file, by route name: each cycle
   * makes sure every lane's head has a delivery job, as it does for the default lane. A head whose
   * hand-off was lost (a process killed between commit and kick, a Redis blip) would otherwise wait
   * for the route's next alert, which may be days away on a quiet route. None without routes.
   */
  readonly lanes?: readonly { readonly name: string; readonly outbox: Pick<Outbox, 'headId'> }[];
  /** Moves the waiting entries of routes no longer configured to the default lane (and logs it), before the default head is kicked. */
  readonly adoptRemovedLanes?: (log: Logger) => Promise<void>;
  readonly metrics: Pick<Metrics, 'recordPollError'>;
  readonly observer: CycleObserver;
  readonly logger: Logger;
  /** The watched projects, in order; integrationIds undefined: discover every integration of the project each cycle. */
  readonly projects: readonly ProjectConfig[];
  /** AMPERSAND_LIST_MODE: one poll job per integration, or one per project. `integration` when absent. */
  readonly listMode?: 'integration' | 'project';
  /** Queues the polls of the cycle; a poll still queued or running for an integration is not doubled. */
  readonly polls: PollQueue;
  readonly delivery: DeliveryQueue;
  /** An integration missing from the list and not polled for this long is forgotten. */
  readonly forgetAfterMs: number;
  readonly now: () => Date;
}

export type CycleOutcome =
  /**
   * `notQueued`: how many integrations could not be queued (each counted as a failed poll).
   * `discoveryFailed`: the projects whose discovery failed while others' succeeded (absent when none did).
   */
  | { readonly status: 'queued'; readonly integrations: readonly string[]; readonly notQueued: number; readonly discoveryFailed?: readonly string[] }
  /** Every project's discovery failed: nothing is queued; `reason` is the first project's. */
  | { readonly status: 'discovery_failed'; readonly reason: string };

/** One project's list for this cycle: its integrations and their names, or why it could not be read. */
type ProjectList =
  | { readonly ok: true; readonly project: ProjectConfig; readonly ids: readonly string[]; readonly names: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly project: ProjectConfig; readonly reason: string };

export function createRunCycle(deps: RunCycleDeps) {
  if (deps.projects.length === 0) throw new RangeError('createRunCycle: no project to watch');
  const several = deps.projects.length > 1;
  /**
   * The integrations each project listed at its last readable cycle, in this process: while a
   * project's discovery fails, its integrations are kept from being forgotten (retain) as long as
   * the process knows them; one that knows none keeps every integration that cycle.
   */
  const lastListed = new Map<string, readonly string[]>();

  return async function runCycle(cycleId: string, jobId: string | undefined): Promise<CycleOutcome> {
    const log = deps.logger.child({ jobId, cycleId });
    try {
      return await cycle(cycleId, log);
    } catch (error) {
      // Redis refusing a command (OOM), a RangeError…: a cycle that queued no poll is a failed one, of every project.
      for (const project of deps.projects) await reportInternalError(deps, log, 'cycle', project.id, CYCLE_LABEL, cycleId, error);
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

  /** The project's client; every watched project has one (main builds them from the same list). */
  function clientOf(project: ProjectConfig): Pick<AmpersandClient, 'listIntegrations'> {
    const client = deps.ampersand.forProject(project.id);
    if (client === undefined) throw new Error(`no Ampersand client for watched project ${project.id}`);
    return client;
  }

  /** The names, for configured ids: one listIntegrations per cycle, whose failure (logged) leaves the messages with ids. */
  async function namesSoftly(project: ProjectConfig, log: Logger): Promise<ReadonlyMap<string, string>> {
    try {
      return namesOf(await clientOf(project).listIntegrations(), log);
    } catch (error) {
      // Not `reason`: that field names the outcome of a poll or a discovery, which this is not.
      log.info(
        { namesReason: error instanceof AmpersandApiError ? error.reason : 'internal_error' },
        `integration names not read; messages show ids: ${firstLine(error)}`,
      );
      return new Map();
    }
  }

  async function listProject(project: ProjectConfig, cycleId: string, log: Logger): Promise<ProjectList> {
    if (project.integrationIds !== undefined) {
      // Configured ids: the list is asked for the names only, and a failure only costs the names.
      return { ok: true, project, ids: project.integrationIds, names: await namesSoftly(project, log) };
    }
    try {
      const body = await clientOf(project).listIntegrations();
      const parsed = parseIntegrationList(body);
      if (!parsed.ok) throw new AmpersandApiError(`integration list: ${parsed.error}`, 'invalid_body');
      if (parsed.skipped.length > 0) {
        const examples = parsed.skipped.slice(0, MAX_WARNING_EXAMPLES).map((i) => `integrations[${i}]`);
        log.warn(
          { skipped: parsed.skipped.length, examples },
          `integration list: ${parsed.skipped.length} id(s) not well-formed UTF-16, skipped (e.g. ${examples.join(', ')})`,
        );
      }
      return { ok: true, project, ids: parsed.ids, names: namesOf(body, log) };
    } catch (error) {
      if (!(error instanceof AmpersandApiError)) throw error;
      deps.metrics.recordPollError(project.id, DISCOVERY_LABEL, error.reason);
      const others = several ? '; the other projects are polled' : '';
      log.error(
        { reason: error.reason, requestId: error.problem?.requestId },
        `integration discovery failed; no poll of this project this cycle${others}: ${error.message}`,
      );
      await deps.observer.pollFailed(project.id, DISCOVERY_LABEL, cycleId, error);
      return { ok: false, project, reason: error.reason };
    }
  }

  async function cycle(cycleId: string, log: Logger): Promise<CycleOutcome> {
    // Delivery first, before anything that talks to Ampersand or the upstream tracker: every lane.
    if (deps.adoptRemovedLanes !== undefined) await deps.adoptRemovedLanes(log);
    const head = await deps.outbox.headId();
    if (head !== undefined) await deps.delivery.kick(head);
    for (const lane of deps.lanes ?? []) {
      const laneHead = await lane.outbox.headId();
      if (laneHead !== undefined) await deps.delivery.kick(laneHead, lane.name);
    }

    // One after the other: a cycle makes one or two calls per project, and the order keeps the logs readable.
    const lists: ProjectList[] = [];
    for (const project of deps.projects) lists.push(await listProject(project, cycleId, several ? log.child({ projectId: project.id }) : log));
    const read = lists.filter((l): l is Extract<ProjectList, { ok: true }> => l.ok);
    const failed = lists.filter((l) => !l.ok).map((l) => l.project.id);
    const [firstFailure] = lists;
    if (read.length === 0 && firstFailure !== undefined && !firstFailure.ok) return { status: 'discovery_failed', reason: firstFailure.reason };

    for (const l of read) lastListed.set(l.project.id, l.ids);
    const ids = read.flatMap((l) => l.ids);
    // A project that failed keeps what it listed last; unknown here, nothing is forgotten this cycle.
    const kept = failed.map((id) => lastListed.get(id));
    if (kept.every((k) => k !== undefined)) {
      const retained = [...ids, ...kept.flatMap((k) => k ?? [])];
      const dropped = await deps.snapshots.retain(retained, deps.now().getTime() - deps.forgetAfterMs);
      if (dropped.length > 0) log.info({ dropped }, 'integrations no longer monitored; their state and series are removed');
    }
    const names = new Map(read.flatMap((l) => [...l.names]));
    const projectOf = new Map(read.flatMap((l) => l.ids.map((id) => [id, l.project.id] as const)));
    let notQueued = 0;
    if (deps.listMode === 'project') {
      // One round trip for the whole cycle: one poll per project, which lists it once and commits each integration.
      const requests = read.map((l) => ({ projectId: l.project.id, integrationIds: l.ids }));
      for (const { projectId, error } of await deps.polls.enqueueProjects(requests, cycleId, names)) {
        for (const integrationId of read.find((l) => l.project.id === projectId)?.ids ?? []) {
          notQueued += 1;
          await reportInternalError(deps, log.child({ projectId, integrationId }), 'enqueue', projectId, integrationId, cycleId, error);
        }
      }
    } else {
      // One round trip for the whole cycle. A poll that could not be queued counts as a failed
      // poll of its integration; the others are queued all the same.
      const failures = await deps.polls.enqueueAll(ids, cycleId, names, projectOf);
      for (const { integrationId, error } of failures) {
        const projectId = projectOf.get(integrationId) ?? deps.projects[0]?.id ?? '';
        notQueued += 1;
        await reportInternalError(deps, log.child({ integrationId }), 'enqueue', projectId, integrationId, cycleId, error);
      }
    }
    // Only with a list we could read: a failed discovery says nothing about what is listed.
    for (const l of read) await deps.observer.integrationsListed(l.project.id, l.ids);
    log.debug({ integrations: ids.length, notQueued, discoveryFailed: failed.length }, 'cycle queued its polls');
    return { status: 'queued', integrations: ids, notQueued, ...(failed.length === 0 ? {} : { discoveryFailed: failed }) };
  }
}
