/**
 * One poll of one integration: load the stored snapshot, fetch and parse the
 * installations, plan the commit (core planPoll), then commit the new snapshot
 * together with the notifications it causes. A failed fetch or an unusable
 * body changes nothing and sends nothing.
 */
import type { MassEventPolicy } from '../src/core/alert-notification.js';
import type { AlertPolicy } from '../src/core/alert-state.js';
import { MAX_WARNING_EXAMPLES, parseInstallationList, summarizeWarnings } from '../src/core/installation.js';
import type { FailureDetails } from '../src/core/operation.js';
import type { Route } from '../src/core/monitor-config.js';
import { isDefaultDestination } from '../src/core/outbox-entry.js';
import type { Episode } from '../src/core/episodes.js';
import { completePollPlan, episodeInstallations, failureDetailsWanted, isSilenced, planPoll, type PollPlan } from '../src/core/poll-plan.js';
import type { MuteRules } from '../src/core/silences.js';
import { AmpersandApiError, type PollErrorReason } from '../src/core/errors/ampersand-api-error.js';
import { firstLine } from '../src/core/errors/to-error.js';
import type { AmpersandClient, AmpersandProjects, DeliveryQueue, Logger, Metrics, Outbox, PollObserver, SnapshotStore } from '../src/ports.js';
import { failureDetailsDefaults, type FailureDetailsFetcher } from './fetch-failure-details.js';
import type { ProviderNameCache } from './provider-names.js';
import { reportInternalError } from './report-internal-error.js';

export interface PollJobData {
  readonly integrationId: string;
  /** The watched project (as configured) of the integration; a job of the release before has none: the first watched project's. */
  readonly projectId?: string;
  /** Id of the cycle that asked for this poll; consecutive failing cycles are counted by it. */
  readonly cycleId: string;
  /** The integration's name, when the cycle knew it (listIntegrations): the messages show it. A job of the release before has none. */
  readonly integrationName?: string;
}

export type PollOutcome =
  | { readonly status: 'committed'; readonly baseline: boolean; readonly installations: number; readonly transitions: number; readonly notifications: number }
  | { readonly status: 'conflict' }
  | { readonly status: 'failed'; readonly reason: PollErrorReason; readonly message: string }
  /** The job names a project that is no longer watched (queued before a configuration change): nothing read, nothing counted. */
  | { readonly status: 'skipped'; readonly reason: 'project_not_watched' };

/**
 * A listing read already (AMPERSAND_LIST_MODE=project: this integration's part of the project's
 * listing), or why it could not be read; the poll then makes no call of its own.
 */
export type ListingSource = { readonly body: unknown } | { readonly error: AmpersandApiError };

export interface PollIntegrationDeps {
  readonly ampersand: AmpersandProjects<Pick<AmpersandClient, 'listInstallations'>>;
  readonly snapshots: Pick<SnapshotStore, 'load' | 'commit' | 'loadEpisodes'>;
  readonly outbox: Pick<Outbox, 'headId'>;
  /** The outbox lane of each route, by route name: a conflict may be our own re-sent commit, whose entries must move in every lane. */
  readonly lanes?: readonly { readonly name: string; readonly outbox: Pick<Outbox, 'headId'> }[];
  readonly metrics: Pick<Metrics, 'observePoll' | 'recordPollError' | 'recordTransitions' | 'recordStateUnreadable' | 'recordSilenced'>;
  readonly logger: Logger;
  /** The first watched project: a job without a projectId (from the release before) is its. Labels use the projectId the API returns once known. */
  readonly projectId: string;
  readonly observer: PollObserver;
  readonly delivery: DeliveryQueue;
  readonly now: () => Date;
  readonly newLineage: () => string;
  /** ALERT_AFTER_POLLS, RESOLVE_AFTER_POLLS, REMIND_INTERVAL_SECONDS. */
  readonly policy: AlertPolicy;
  /** MASS_EVENT_MIN_COUNT and MASS_EVENT_FRACTION; the core's defaults when absent. */
  readonly massEvent?: MassEventPolicy;
  /** The routes of the monitor configuration file; none (absent): every alert goes to the default route. */
  readonly routes?: readonly Route[];
  /** The silences and maintenance windows of the monitor configuration file (windows compiled once); nothing is muted when absent. */
  readonly muting?: MuteRules;
  /** The providers' display names (`GET /providers`, cached; never throws); asked only by a poll with an alert to send. Ids only when absent. */
  readonly providerNames?: ProviderNameCache;
  /** Looks up why a failing operation fails, within FAILURE_DETAILS_PER_CYCLE per cycle; never throws. */
  readonly failureDetails: Pick<FailureDetailsFetcher, 'fetch'>;
  /**
   * Ends every look-up of one poll at once, so that the commit waits for them at most this long:
   * an alert without details beats a late one. AbortSignal.timeout of one look-up's timeout by default.
   */
  readonly detailsDeadline?: () => AbortSignal;
}

/** Look-ups of one poll that run at once: the API is not flooded, and a few slow ones do not hold the rest. */
const detailsConcurrency = 8;

/** Runs every step, one after the other, even after one failed; then throws the first failure. */
async function inOrder(...steps: readonly (() => Promise<void>)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}

/** A poll's outcome, and what reports it once it is decided (delivery, the observer). */
interface DecidedPoll {
  readonly outcome: PollOutcome;
  readonly report: () => Promise<void>;
}

const groupRefOf = (plan: PollPlan, installationId: string): string | undefined =>
  plan.alertItems.find((i) => i.installationId === installationId)?.groupRef ?? plan.snapshot.get(installationId)?.groupRef;

/** Says when the alert states were not read as stored: upgraded from the release before, or unreadable. */
function logAlertStatesOrigin(plan: PollPlan, log: Logger): void {
  const { source, reason, unreadableSlots } = plan.alertStatesOrigin;
  if (source === 'upgraded') log.info('no alert states stored (the release before kept none): taken from the snapshot, as already announced');
  else if (source === 'unreadable')
    log.error({ reason }, `stored alert states are unreadable (${reason ?? 'unknown'}); taken from the snapshot, as already announced`);
  else if (unreadableSlots > 0)
    log.warn({ unreadableSlots }, `${unreadableSlots} stored alert state(s) unreadable; taken from the snapshot, as already announced`);
}

export function createPollIntegration(deps: PollIntegrationDeps) {
  /**
   * Polls one integration and tells the observer exactly one outcome. An
   * exception before the outcome is decided is an internal error (a failed
   * poll). One while reporting it (the delivery hand-off or the observer cannot
   * reach Redis) is logged and rethrown, so the job fails, but it is not
   * reported again: a committed poll stays committed, and a failed one is not
   * counted twice.
   */
  return async function pollIntegration(data: PollJobData, jobId: string | undefined, listing?: ListingSource): Promise<PollOutcome> {
    const projectId = data.projectId ?? deps.projectId;
    const log = deps.logger.child({ integrationId: data.integrationId, jobId, ...(data.projectId === undefined ? {} : { projectId }) });
    const client = deps.ampersand.forProject(projectId);
    if (client === undefined) {
      log.warn(`project ${projectId} is no longer watched; this poll of integration ${data.integrationId} is dropped`);
      return { status: 'skipped', reason: 'project_not_watched' };
    }
    let decided: DecidedPoll;
    try {
      decided = await poll(data, projectId, listing ?? client, log);
    } catch (error) {
      await reportInternalError(deps, log, 'poll', projectId, data.integrationId, data.cycleId, error);
      throw error;
    }
    try {
      await decided.report();
    } catch (error) {
      const message = firstLine(error);
      log.error({ err: error, outcome: decided.outcome.status }, `poll ${decided.outcome.status}, but reporting its outcome failed: ${message}`);
      throw error;
    }
    return decided.outcome;
  };

  /** The failure details of these installations that could be found in time; the fetcher logs those that could not. */
  async function lookUpFailureDetails(installationIds: readonly string[], data: PollJobData, projectId: string): Promise<Map<string, FailureDetails>> {
    const found = new Map<string, FailureDetails>();
    if (installationIds.length === 0) return found;
    const deadline = (deps.detailsDeadline ?? (() => AbortSignal.timeout(failureDetailsDefaults.timeoutMs)))();
    const queue = [...installationIds];
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const details = await deps.failureDetails.fetch({ cycleId: data.cycleId, projectId, integrationId: data.integrationId, installationId: id }, deadline);
        if (details !== undefined) found.set(id, details);
      }
    };
    await Promise.all(Array.from({ length: Math.min(detailsConcurrency, queue.length) }, worker));
    return found;
  }

  async function poll(
    data: PollJobData,
    watchedProject: string,
    source: ListingSource | Pick<AmpersandClient, 'listInstallations'>,
    log: Logger,
  ): Promise<DecidedPoll> {
    const { integrationId, cycleId } = data;
    const started = performance.now();
    const stored = await deps.snapshots.load(integrationId);
    const projectId = stored?.projectId || watchedProject;
    const elapsed = (): number => (performance.now() - started) / 1000;

    const fail = (error: AmpersandApiError): DecidedPoll => {
      deps.metrics.observePoll(projectId, integrationId, elapsed());
      deps.metrics.recordPollError(projectId, integrationId, error.reason);
      const fields = { reason: error.reason, status: error.status, requestId: error.problem?.requestId };
      if (error.isConfigurationError) log.error(fields, `configuration error: ${error.message}`);
      else log.warn(fields, `poll failed; snapshot left unchanged: ${error.message}`);
      return {
        outcome: { status: 'failed', reason: error.reason, message: error.message },
        report: () => deps.observer.pollFailed(watchedProject, integrationId, cycleId, error),
      };
    };

    let body: unknown;
    if ('error' in source) return fail(source.error);
    if ('body' in source) body = source.body;
    else {
      try {
        body = await source.listInstallations(integrationId);
      } catch (error) {
        if (error instanceof AmpersandApiError) return fail(error);
        throw error;
      }
    }
    const parsed = parseInstallationList(body);
    if (!parsed.ok) return fail(new AmpersandApiError(`installations of ${integrationId}: ${parsed.error}`, 'invalid_body'));
    if (parsed.warnings.length > 0) {
      // One line per poll, however many items are odd: counts and the first few ids per kind.
      const oddities = parsed.warnings.reduce((sum, w) => sum + w.count, 0);
      log.warn(
        { warnings: parsed.warnings.slice(0, MAX_WARNING_EXAMPLES) },
        `installations of ${integrationId}: ${oddities} oddity(ies), kept as is: ${summarizeWarnings(parsed.warnings)}`,
      );
    }

    if (stored?.unreadable) {
      // Corrupt state (a bug, a manual edit, a partial restore): start over rather than stay frozen.
      log.error({ reason: stored.unreadable.reason }, `stored state of ${integrationId} is unreadable (${stored.unreadable.reason}); starting a new baseline`);
      deps.metrics.recordStateUnreadable(projectId, integrationId);
    }
    const now = deps.now();
    const planned = planPoll(
      stored,
      parsed.installations,
      now,
      { integrationId, projectId: watchedProject, newLineage: deps.newLineage },
      {
        policy: deps.policy,
        ...(deps.massEvent === undefined ? {} : { massEvent: deps.massEvent }),
        ...(deps.routes === undefined ? {} : { routes: deps.routes }),
        ...(deps.muting === undefined ? {} : { muting: deps.muting }),
        ...(data.integrationName === undefined ? {} : { integrationName: data.integrationName }),
      },
    );
    logAlertStatesOrigin(planned, log);
    // Before the commit, so that the alert carries them; softly, so that it is never held for long.
    const details = await lookUpFailureDetails(failureDetailsWanted(planned), data, watchedProject);
    // The episode logs of the installations with an event only: most polls read none.
    const changing = episodeInstallations(planned);
    const episodes = changing.length === 0 ? new Map<string, Episode[]>() : await deps.snapshots.loadEpisodes(integrationId, changing);
    const providerNames = planned.alertItems.length > 0 ? await deps.providerNames?.get() : undefined;
    const plan = completePollPlan(planned, { details, episodes, ...(providerNames === undefined ? {} : { providerNames }) }, now);
    const result = await deps.snapshots.commit({
      integrationId,
      expectedVersion: stored?.unreadable?.storedVersion ?? stored?.version,
      version: plan.version,
      lineage: plan.lineage,
      projectId: plan.projectId,
      snapshot: plan.snapshot,
      nowMs: now.getTime(),
      outbox: plan.notifications,
      ...(plan.alertStates === undefined ? {} : { alertStates: plan.alertStates }),
      ...(plan.episodeLogs.size === 0 ? {} : { episodes: plan.episodeLogs }),
    });
    if (!result.committed) {
      log.info('another poll of this integration committed first; this result is discarded');
      // A "conflict" can also be our own commit, re-sent by ioredis after a dropped
      // connection: its notifications are in the outbox, so make sure they move.
      const head = await deps.outbox.headId();
      if (head !== undefined) await deps.delivery.kick(head);
      for (const lane of deps.lanes ?? []) {
        const laneHead = await lane.outbox.headId();
        if (laneHead !== undefined) await deps.delivery.kick(laneHead, lane.name);
      }
      return { outcome: { status: 'conflict' }, report: () => Promise.resolve() };
    }
    // Once per committed transition, so that grep for a customer's installation or group
    // answers "what happened" without Slack. A conflict above commits nothing and logs none.
    for (const t of plan.transitions) {
      log.info(
        { installationId: t.installationId, groupRef: t.groupRef, field: t.field, from: t.from, to: t.to },
        `transition: ${t.installationId} ${t.field} ${t.from} → ${t.to}`,
      );
    }
    // And once per alert event, sent or not: "why did (or didn't) this page?" is answered by grep.
    for (const e of plan.alertEvents) {
      const { kind, notify } = e.event;
      const mutedBy = e.mute?.by;
      const why = notify ? '' : mutedBy === undefined ? ' (not sent)' : ` (not sent: muted by ${mutedBy})`;
      log.info(
        {
          installationId: e.installationId,
          groupRef: groupRefOf(plan, e.installationId),
          condition: e.condition,
          event: kind,
          notify,
          ...(mutedBy === undefined ? {} : { mutedBy }),
        },
        `alert: ${e.installationId} ${e.condition} ${kind}${why}`,
      );
      if (isSilenced(e)) deps.metrics.recordSilenced(plan.projectId, integrationId, e.condition, e.mute.kind);
    }
    deps.metrics.observePoll(plan.projectId, integrationId, elapsed());
    deps.metrics.recordTransitions(plan.projectId, integrationId, plan.transitions);

    if (plan.baseline) {
      log.info(
        { installations: plan.snapshot.size, alreadyBad: plan.alerts.length },
        stored ? 'new baseline (stored snapshot was unreadable)' : 'baseline taken: first successful poll of this integration',
      );
    } else {
      log.info(
        { installations: plan.snapshot.size, transitions: plan.transitions.length, alertEvents: plan.alertEvents.length, version: result.version },
        'poll committed',
      );
    }
    const { outboxHead, laneHeads = [] } = result;
    const toDefaultLane = plan.notifications.some((n) => isDefaultDestination(n.destination));
    return {
      outcome: {
        status: 'committed',
        baseline: plan.baseline,
        installations: plan.snapshot.size,
        transitions: plan.transitions.length,
        notifications: plan.notifications.length,
      },
      // Delivery first: the committed notifications move at once, whatever the observer
      // (the upstream tracker, a Redis round trip or ten) takes or throws. The observer is
      // told even when the hand-off failed; the first failure fails the job.
      report: () =>
        inOrder(
          async () => {
            // Each lane appended to has its head handed to that lane's delivery.
            if (toDefaultLane && outboxHead !== undefined) await deps.delivery.kick(outboxHead);
            for (const { lane, head } of laneHeads) await deps.delivery.kick(head, lane);
          },
          () => deps.observer.pollSucceeded(watchedProject, integrationId, cycleId),
        ),
    };
  }
}
