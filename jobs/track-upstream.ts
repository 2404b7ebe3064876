/**
 * The monitor's own access to Ampersand. Every poll outcome goes through the
 * pure upstream policy; the shared state and the one "cannot read Ampersand"
 * (or "can read again") notification it may cause are committed together, so
 * replicas agree and the message is sent once. It also keeps what this process
 * saw per integration, for the /readyz body.
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

export interface UpstreamReport {
  /** `configuration_error`: 401/403, fix AMPERSAND_API_KEY; `degraded`: polls are failing. */
  readonly state: 'unknown' | 'ok' | 'degraded' | 'configuration_error';
  readonly reason?: string;
  readonly failedCycles: number;
  /** Integrations whose own "cannot read" alert is open, with its reason. */
  readonly unreadableIntegrations: Readonly<Record<string, string>>;
  /** What this process saw at its last poll of each integration. */
  readonly integrations: Readonly<Record<string, IntegrationStatus>>;
}

/** The cycle and poll observer that the jobs tell every outcome, plus what /readyz and /metrics read. */
export interface UpstreamTracker extends CycleObserver {
  report(): Promise<UpstreamReport>;
  /** 1 when the last cycle could read the API, 0 when not, undefined before any poll. */
  apiUp(): Promise<boolean | undefined>;
}

export interface UpstreamTrackerDeps {
  readonly store: Pick<UpstreamStore, 'load' | 'commit'>;
  readonly logger: Logger;
  readonly projectId: string;
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

export function createUpstreamTracker(deps: UpstreamTrackerDeps): UpstreamTracker {
  const last = new Map<string, IntegrationStatus>();

  /** Commits what `decide` makes of the stored state; true if that sent a message. */
  const apply = async (decide: (state: UpstreamState) => UpstreamDecision): Promise<boolean> => {
    // Compare-and-set: a replica that committed in between makes us recompute.
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const { rev, state } = await deps.store.load();
      const decision = decide(state);
      if (decision.notify === undefined && JSON.stringify(decision.state) === JSON.stringify(state)) return false;
      const now = deps.now();
      const notification: UpstreamNotification | undefined = decision.notify && {
        kind: 'upstream',
        projectId: deps.projectId,
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
      const lanes = notification === undefined ? [] : upstreamLanes(deps.routes ?? [], deps.projectId, notification.integrationId);
      const entries: OutboxEntry[] = lanes.map((lane) => ({
        id: lane === DEFAULT_DESTINATION ? id : `${id}.${lane}`,
        destination: lane,
        enqueuedAt: now.getTime(),
        notification: notification as UpstreamNotification,
      }));
      const entry = entries[0];
      const result = await deps.store.commit(rev, decision.state, entries.length === 0 ? undefined : entries);
      if (!result.committed) continue;
      if (entry && decision.notify?.integrationId !== undefined) {
        const { integrationId, reason } = decision.notify;
        if (decision.notify.state === 'down') deps.logger.error({ integrationId, reason }, `the monitor cannot read integration ${integrationId}: ${reason}`);
        else if (decision.notify.noLongerMonitored)
          deps.logger.info({ integrationId }, `integration ${integrationId} is no longer monitored; its open upstream alert is resolved`);
        else deps.logger.info({ integrationId }, `the monitor can read integration ${integrationId} again`);
      } else if (entry) {
        if (decision.notify?.state === 'down')
          deps.logger.error({ reason: decision.notify.reason }, `the monitor cannot read Ampersand: ${decision.notify.reason}`);
        else deps.logger.info('the monitor can read Ampersand again');
      }
      if (entry && result.outboxHead !== undefined) await deps.delivery.kick(result.outboxHead);
      for (const { lane, head } of result.laneHeads ?? []) await deps.delivery.kick(head, lane);
      return entry !== undefined;
    }
    deps.logger.warn('upstream state kept changing under us; this outcome was not recorded');
    return false;
  };

  // Set while this process could not store a poll outcome (Redis refused the write):
  // the shared state is stale then, and must not read as "up".
  let unrecorded: string | undefined;
  const record = async (event: UpstreamEvent): Promise<void> => {
    try {
      await apply((state) => nextUpstreamState(state, event, deps.degradedAfterCycles));
      unrecorded = undefined;
    } catch (error) {
      unrecorded = firstLine(error);
      throw error;
    }
  };

  const load = async (): Promise<UpstreamState> => (await deps.store.load()).state;

  return {
    async pollSucceeded(integrationId, cycleId) {
      last.set(integrationId, { ok: true, at: deps.now().toISOString() });
      await record({ ok: true, cycleId, integrationId, atMs: deps.now().getTime() });
    },
    async pollFailed(integrationId, cycleId, error) {
      last.set(integrationId, { ok: false, at: deps.now().toISOString(), reason: error.reason, message: error.message });
      await record({
        ok: false,
        cycleId,
        integrationId,
        reason: describe(error),
        configurationError: error.reason === 'unauthorized' || error.reason === 'forbidden',
        atMs: deps.now().getTime(),
        cause: error.reason,
      });
    },
    async integrationsListed(integrationIds) {
      const listed = new Set(integrationIds);
      // One message per commit; bounded so that a bug cannot loop forever.
      for (let sent = 0; sent < 1000; sent += 1) {
        const nowMs = deps.now().getTime();
        if (!(await apply((state) => forgetUnlistedIntegrations(state, listed, nowMs, deps.forgetAfterMs)))) return;
      }
    },
    async report() {
      const state = await load();
      const integrations = Object.fromEntries(last);
      const known = state.lastSuccessCycle !== '' || state.lastFailedCycle !== '';
      const unreadableIntegrations = Object.fromEntries(
        Object.entries(state.integrations)
          .filter(([, f]) => f.down)
          .map(([id, f]) => [id, f.reason]),
      );
      if (unrecorded !== undefined) {
        return {
          state: 'degraded',
          reason: `poll outcomes cannot be stored in Redis: ${unrecorded}`,
          failedCycles: state.failedCycles,
          unreadableIntegrations,
          integrations,
        };
      }
      const summary: UpstreamReport['state'] = state.configurationError
        ? 'configuration_error'
        : state.down || state.failedCycles > 0 || Object.keys(unreadableIntegrations).length > 0
          ? 'degraded'
          : known
            ? 'ok'
            : 'unknown';
      return {
        state: summary,
        ...(state.reason === '' ? {} : { reason: state.reason }),
        failedCycles: state.failedCycles,
        unreadableIntegrations,
        integrations,
      };
    },
    async apiUp() {
      const state = await load();
      if (unrecorded !== undefined) return false;
      if (state.lastSuccessCycle === '' && state.lastFailedCycle === '') return undefined;
      return !state.down && state.failedCycles === 0;
    },
  };
}
