/**
 * The monitor's own access to Ampersand, per watched project. Every poll outcome goes through the
 * pure upstream policy with the state of its project; that state and the one "cannot read Ampersand"
 * (or "can read again") notification it may cause, naming the project, are committed together, so
 * replicas agree and the message is sent once. One project that cannot be read (a key refused for it,
 * a failed discovery) opens its own alert and leaves the others' states alone. It also keeps what this
 * process saw per integration, for the /readyz body.
 *
 * The jobs call it after they handed their own notifications to delivery, so
 * a tracker that fails (Redis refuses its commit) or is slow never holds
 * them up.
 */
import { DEFAULT_DESTINATION } from '../src/core/outbox-entry.js';
import type { Route } from '../src/core/monitor-config.js';
import type { UpstreamNotification } from '../src/core/notification.js';
import { upstreamLanes } from '../src/core/routing.js';
import { forgetUnlistedIntegrations, nextUpstreamState, type UpstreamDecision, type UpstreamEvent, type UpstreamState } from '../src/core/upstream-policy.js';
import type { AmpersandApiError, PollErrorReason } from '../src/core/errors/ampersand-api-error.js';
import { firstLine } from '../src/core/errors/to-error.js';
import type { CycleObserver, DeliveryQueue, Logger, OutboxEntry, UpstreamStore } from '../src/ports.js';

export interface IntegrationStatus {
  readonly ok: boolean;
  readonly at: string;
  readonly reason?: PollErrorReason;
  readonly message?: string;
}

type UpstreamSummary = 'unknown' | 'ok' | 'degraded' | 'configuration_error';

/** One project's part of the report, when several projects are watched. */
export interface ProjectUpstreamReport {
  readonly state: UpstreamSummary;
  readonly reason?: string;
  readonly failedCycles: number;
}

export interface UpstreamReport {
  /** `configuration_error`: 401/403, fix AMPERSAND_API_KEY; `degraded`: polls are failing. The worst project's, with several. */
  readonly state: UpstreamSummary;
  /** With several projects, each project's reason, prefixed by the project. */
  readonly reason?: string;
  readonly failedCycles: number;
  /** Integrations whose own "cannot read" alert is open, with its reason. */
  readonly unreadableIntegrations: Readonly<Record<string, string>>;
  /** What this process saw at its last poll of each integration. */
  readonly integrations: Readonly<Record<string, IntegrationStatus>>;
  /** Each project's state, by project id; only when several projects are watched. */
  readonly projects?: Readonly<Record<string, ProjectUpstreamReport>>;
}

/** The cycle and poll observer that the jobs tell every outcome, plus what /readyz and /metrics read. */
export interface UpstreamTracker extends CycleObserver {
  report(): Promise<UpstreamReport>;
  /** True when the last cycle could read every watched project, false when not, undefined before any poll. */
  apiUp(): Promise<boolean | undefined>;
  /** The same per project, by project id (as configured), for ampersand_api_up{project_id}. */
  apiUpByProject(): Promise<ReadonlyMap<string, boolean | undefined>>;
}

export interface UpstreamTrackerDeps {
  readonly store: Pick<UpstreamStore, 'load' | 'commit'>;
  readonly logger: Logger;
  /** The watched projects, as configured: each has its own state. */
  readonly projects: readonly string[];
  readonly degradedAfterCycles: number;
  /** An integration missing from the list this long loses its entry (MONITOR_FORGET_AFTER_SECONDS). */
  readonly forgetAfterMs: number;
  /** The routes of the monitor configuration file: "cannot read Ampersand" goes to those it concerns too. */
  readonly routes?: readonly Route[];
  /** Hands the tracker's own "cannot read Ampersand" messages to delivery. */
  readonly delivery: DeliveryQueue;
  readonly now: () => Date;
  readonly newId: () => string;
}

const describe = (error: AmpersandApiError): string => `${error.reason}${error.status === undefined ? '' : ` (HTTP ${error.status})`}: ${error.message}`;

const severity: Readonly<Record<UpstreamSummary, number>> = { unknown: 0, ok: 1, degraded: 2, configuration_error: 3 };

export function createUpstreamTracker(deps: UpstreamTrackerDeps): UpstreamTracker {
  const last = new Map<string, IntegrationStatus>();

  /** Commits what `decide` makes of the project's stored state; true if that sent a message. */
  const apply = async (projectId: string, decide: (state: UpstreamState) => UpstreamDecision): Promise<boolean> => {
    const logger = deps.projects.length > 1 ? deps.logger.child({ projectId }) : deps.logger;
    // Compare-and-set: a replica that committed in between makes us recompute.
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const { rev, state } = await deps.store.load(projectId);
      const decision = decide(state);
      if (decision.notify === undefined && JSON.stringify(decision.state) === JSON.stringify(state)) return false;
      const now = deps.now();
      const notification: UpstreamNotification | undefined = decision.notify && {
        kind: 'upstream',
        projectId,
        state: decision.notify.state,
        reason: decision.notify.reason,
        detectedAt: now.toISOString(),
        ...(decision.notify.integrationId === undefined ? {} : { integrationId: decision.notify.integrationId }),
        ...(decision.notify.noLongerMonitored ? { noLongerMonitored: true as const } : {}),
        ...(decision.notify.sinceMs === undefined ? {} : { sinceMs: decision.notify.sinceMs }),
        ...(decision.notify.cause === undefined ? {} : { cause: decision.notify.cause }),
      };
      // One entry per lane it goes to (core/routing.ts upstreamLanes): the default one keeps the plain id.
      const id = notification === undefined ? '' : `upstream.${deps.newId()}`;
      const lanes = notification === undefined ? [] : upstreamLanes(deps.routes ?? [], projectId, notification.integrationId);
      const entries: OutboxEntry[] = lanes.map((lane) => ({
        id: lane === DEFAULT_DESTINATION ? id : `${id}.${lane}`,
        destination: lane,
        enqueuedAt: now.getTime(),
        notification: notification as UpstreamNotification,
      }));
      const entry = entries[0];
      const result = await deps.store.commit(projectId, rev, decision.state, entries.length === 0 ? undefined : entries);
      if (!result.committed) continue;
      if (entry && decision.notify?.integrationId !== undefined) {
        const { integrationId, reason } = decision.notify;
        if (decision.notify.state === 'down') logger.error({ integrationId, reason }, `the monitor cannot read integration ${integrationId}: ${reason}`);
        else if (decision.notify.noLongerMonitored)
          logger.info({ integrationId }, `integration ${integrationId} is no longer monitored; its open upstream alert is resolved`);
        else logger.info({ integrationId }, `the monitor can read integration ${integrationId} again`);
      } else if (entry) {
        if (decision.notify?.state === 'down')
          logger.error({ reason: decision.notify.reason }, `the monitor cannot read Ampersand project ${projectId}: ${decision.notify.reason}`);
        else logger.info(`the monitor can read Ampersand project ${projectId} again`);
      }
      if (entry && result.outboxHead !== undefined) await deps.delivery.kick(result.outboxHead);
      for (const { lane, head } of result.laneHeads ?? []) await deps.delivery.kick(head, lane);
      return entry !== undefined;
    }
    logger.warn('upstream state kept changing under us; this outcome was not recorded');
    return false;
  };

  // Set while this process could not store a poll outcome (Redis refused the write):
  // the shared state is stale then, and must not read as "up".
  let unrecorded: string | undefined;
  const record = async (projectId: string, event: UpstreamEvent): Promise<void> => {
    try {
      await apply(projectId, (state) => nextUpstreamState(state, event, deps.degradedAfterCycles));
      unrecorded = undefined;
    } catch (error) {
      unrecorded = firstLine(error);
      throw error;
    }
  };

  const loadAll = async (): Promise<[string, UpstreamState][]> =>
    Promise.all(deps.projects.map(async (projectId): Promise<[string, UpstreamState]> => [projectId, (await deps.store.load(projectId)).state]));

  const isKnown = (state: UpstreamState): boolean => state.lastSuccessCycle !== '' || state.lastFailedCycle !== '';
  const unreadableOf = (state: UpstreamState): [string, string][] =>
    Object.entries(state.integrations)
      .filter(([, f]) => f.down)
      .map(([id, f]) => [id, f.reason]);
  const summaryOf = (state: UpstreamState): UpstreamSummary =>
    state.configurationError
      ? 'configuration_error'
      : state.down || state.failedCycles > 0 || unreadableOf(state).length > 0
        ? 'degraded'
        : isKnown(state)
          ? 'ok'
          : 'unknown';
  const upOf = (state: UpstreamState): boolean | undefined => (isKnown(state) ? !state.down && state.failedCycles === 0 : undefined);

  const apiUpByProject = async (): Promise<ReadonlyMap<string, boolean | undefined>> => {
    const states = await loadAll();
    return new Map(states.map(([projectId, state]) => [projectId, unrecorded !== undefined ? false : upOf(state)]));
  };

  return {
    async pollSucceeded(projectId, integrationId, cycleId) {
      last.set(integrationId, { ok: true, at: deps.now().toISOString() });
      await record(projectId, { ok: true, cycleId, integrationId, atMs: deps.now().getTime() });
    },
    async pollFailed(projectId, integrationId, cycleId, error) {
      last.set(integrationId, { ok: false, at: deps.now().toISOString(), reason: error.reason, message: error.message });
      await record(projectId, {
        ok: false,
        cycleId,
        integrationId,
        reason: describe(error),
        configurationError: error.reason === 'unauthorized' || error.reason === 'forbidden',
        atMs: deps.now().getTime(),
        cause: error.reason,
      });
    },
    async integrationsListed(projectId, integrationIds) {
      const listed = new Set(integrationIds);
      // One message per commit; bounded so that a bug cannot loop forever.
      for (let sent = 0; sent < 1000; sent += 1) {
        const nowMs = deps.now().getTime();
        if (!(await apply(projectId, (state) => forgetUnlistedIntegrations(state, listed, nowMs, deps.forgetAfterMs)))) return;
      }
    },
    async report() {
      const states = await loadAll();
      const integrations = Object.fromEntries(last);
      const unreadableIntegrations = Object.fromEntries(states.flatMap(([, state]) => unreadableOf(state)));
      const failedCycles = Math.max(0, ...states.map(([, state]) => state.failedCycles));
      if (unrecorded !== undefined) {
        return { state: 'degraded', reason: `poll outcomes cannot be stored in Redis: ${unrecorded}`, failedCycles, unreadableIntegrations, integrations };
      }
      const [only] = states;
      if (states.length === 1 && only !== undefined) {
        const [, state] = only;
        return { state: summaryOf(state), ...(state.reason === '' ? {} : { reason: state.reason }), failedCycles, unreadableIntegrations, integrations };
      }
      const projects = Object.fromEntries(
        states.map(([projectId, state]): [string, ProjectUpstreamReport] => [
          projectId,
          { state: summaryOf(state), ...(state.reason === '' ? {} : { reason: state.reason }), failedCycles: state.failedCycles },
        ]),
      );
      const worst = Object.values(projects).reduce<UpstreamSummary>((w, p) => (severity[p.state] > severity[w] ? p.state : w), 'unknown');
      const reasons = Object.entries(projects).flatMap(([projectId, p]) => (p.reason === undefined ? [] : [`project ${projectId}: ${p.reason}`]));
      return { state: worst, ...(reasons.length === 0 ? {} : { reason: reasons.join('; ') }), failedCycles, unreadableIntegrations, integrations, projects };
    },
    async apiUp() {
      const ups = [...(await apiUpByProject()).values()];
      if (unrecorded !== undefined) return false;
      if (ups.every((up) => up === undefined)) return undefined;
      return ups.every((up) => up !== false);
    },
    apiUpByProject,
  };
}
