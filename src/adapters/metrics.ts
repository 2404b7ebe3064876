/**
 * Prometheus metrics, on a Registry the composition root creates and passes
 * in (never prom-client's global one).
 *
 * Two kinds of series live here:
 * - State gauges (per-installation one-hot status, counts, last successful
 *   poll) are rebuilt from the shared Redis state on every scrape by
 *   `refreshFromState`, so every replica exports every integration and the
 *   series of removed installations disappear. Names and the one-hot layout
 *   follow kube-state-metrics (`kube_pod_status_phase{phase=…} 1`).
 * - Counters and the poll histogram count what this process did; Prometheus
 *   sums them across replicas.
 */
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { CONDITIONS } from '../core/alert-state.js';
import { firingCounts, loadAlertStates } from '../core/alert-states.js';
import { CONNECTION_STATUSES, HEALTH_STATUSES, OPERATION_STATUSES, UNKNOWN_OPERATION_STATUS } from '../core/installation.js';
import { ERROR_REASONS } from '../core/errors/ampersand-api-error.js';
import type { Metrics, SlackOutcome } from '../ports.js';

/** Every delivery outcome, listed through a record so that the compiler flags one missing from the port's type. */
const OUTCOMES: Readonly<Record<SlackOutcome, true>> = {
  sent: true,
  plain_text: true,
  retried: true,
  rate_limited: true,
  paused: true,
  rejected: true,
  failed: true,
  logged: true,
};
export const DELIVERY_OUTCOMES = Object.keys(OUTCOMES) as readonly SlackOutcome[];

const OPERATION_STATES = [...OPERATION_STATUSES, UNKNOWN_OPERATION_STATUS];

const LABELS = ['project_id', 'integration_id', 'installation_id', 'group_ref', 'provider', 'status'] as const;

/** One-hot over the known values; a value outside them gets its own series, so it is never hidden. */
function oneHot(known: readonly string[], value: string): [string, number][] {
  const out: [string, number][] = known.map((k) => [k, k === value ? 1 : 0]);
  if (!known.includes(value)) out.push([value, 1]);
  return out;
}

/** Which build runs, for `ampersand_health_monitor_build_info`. */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  /** As Node.js reports it (`process.version`, "v24.1.0"), the form of prom-client's `nodejs_version_info`. */
  readonly nodejs: string;
}

export function createMetrics(registry: Registry, options: { defaultMetrics?: boolean; build?: BuildInfo } = {}): Metrics {
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // These three are gauges named like counters, which `promtool check metrics` flags;
    // the same numbers stay available per type as nodejs_active_handles/requests/resources.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  const registers = [registry];
  if (options.build !== undefined) registerBuildInfo(registry, options.build);

  const health = new Gauge({
    name: 'ampersand_installation_health_status',
    help: 'Health of an installation as Ampersand reports it; one-hot over status (healthy, unhealthy).',
    labelNames: LABELS,
    registers,
  });
  const lastOperation = new Gauge({
    name: 'ampersand_installation_last_operation_status',
    help: 'Status of the latest operation of an installation; one-hot over status (success, failure, in_progress, unknown = none reported).',
    labelNames: LABELS,
    registers,
  });
  const connection = new Gauge({
    name: 'ampersand_installation_connection_status',
    help: "Status of an installation's connection to its provider; one-hot over status (created, working, bad_credentials = the customer must reconnect).",
    labelNames: LABELS,
    registers,
  });
  // The group's name is for people, not for selecting: an info series of its own (as kube_pod_info),
  // joined on installation_id where a table shows it, keeps it off the status series and the alerts.
  const info = new Gauge({
    name: 'ampersand_installation_info',
    help: 'Always 1: the group name of an installation as Ampersand reports it (cut to 256 characters), to join on installation_id for display.',
    labelNames: ['project_id', 'integration_id', 'installation_id', 'group_ref', 'group_name', 'provider'],
    registers,
  });
  const installations = new Gauge({
    name: 'ampersand_installations',
    help: 'Number of installations of an integration by health status.',
    labelNames: ['project_id', 'integration_id', 'health_status'],
    registers,
  });
  const lastSuccess = new Gauge({
    name: 'ampersand_last_successful_poll_timestamp_seconds',
    help: 'Unix time of the last successful poll of an integration, by any replica.',
    labelNames: ['project_id', 'integration_id'],
    registers,
  });
  const transitionsTotal = new Counter({
    name: 'ampersand_installation_transitions_total',
    help: 'Field transitions seen by this process; from="none" is a new installation, to="none" a removed one.',
    labelNames: ['project_id', 'integration_id', 'field', 'from', 'to'],
    registers,
  });
  const pollDuration = new Histogram({
    name: 'ampersand_poll_duration_seconds',
    help: 'Duration of one poll of an integration (fetch, diff and commit), successful or not.',
    labelNames: ['project_id', 'integration_id'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const pollErrors = new Counter({
    name: 'ampersand_poll_errors_total',
    help: 'Failed polls of an integration by reason.',
    labelNames: ['project_id', 'integration_id', 'reason'],
    registers,
  });
  const slack = new Counter({
    name: 'ampersand_slack_notifications_total',
    help: 'Slack message delivery attempts by outcome (sent, plain_text = sent as plain text after Slack refused its blocks, retried, rate_limited, paused = webhook broken, rejected, failed, logged).',
    labelNames: ['outcome'],
    registers,
  });
  const apiUpGauge = new Gauge({
    name: 'ampersand_api_up',
    help: '1 if the last cycle could read the Ampersand API, 0 if it failed (0 on 401/403: a configuration fault).',
    labelNames: ['project_id'],
    registers,
  });
  const outbox = new Gauge({
    name: 'ampersand_slack_outbox_messages',
    help: 'Slack messages waiting in the outbox lane of a route (the monitor configuration file\'s routes; "default" is SLACK_WEBHOOK_URL), shared by the replicas (take max, not sum).',
    labelNames: ['route'],
    registers,
  });
  // Shared state, like the gauges: every replica exports the same total (take max, not sum).
  const outboxDropped = new Counter({
    name: 'ampersand_slack_outbox_dropped_total',
    help: 'Alert messages dropped because the outbox was full (SLACK_OUTBOX_MAX), folded into one "N alerts dropped" notice; a total shared by the replicas (take max across them, not sum).',
    registers,
  });
  const unreadable = new Counter({
    name: 'ampersand_state_unreadable_total',
    help: 'Stored snapshots of an integration found unreadable (corrupt version or data) and replaced by a new baseline by this process.',
    labelNames: ['project_id', 'integration_id'],
    registers,
  });
  const silenced = new Counter({
    name: 'ampersand_alerts_silenced_total',
    help: 'Firing alerts not sent because a silence (kind="silence") or a maintenance window (kind="maintenance") of MONITOR_CONFIG covered the installation, counted once per firing by the process whose poll committed it (a firing still bad when its mute ends is sent then). Reminders that wait and recoveries of unsent firings are not counted.',
    labelNames: ['project_id', 'integration_id', 'condition', 'kind'],
    registers,
  });
  const slackUp = new Gauge({
    name: 'ampersand_slack_up',
    help: '1 if the last delivery to the Slack webhook of a route succeeded, 0 if the webhook is broken (revoked, archived channel, redirect, DNS or TLS failure, plain text refused) and delivery on that route is paused; absent until a delivery ran. route is the route name ("default": SLACK_WEBHOOK_URL), target the webhook host.',
    labelNames: ['target', 'route'],
    registers,
  });
  const slackLastSuccess = new Gauge({
    name: 'ampersand_slack_last_success_timestamp_seconds',
    help: 'Unix time of the last message the Slack webhook of a route accepted, by any replica; absent until one was. route is the route name ("default": SLACK_WEBHOOK_URL), target the webhook host.',
    labelNames: ['target', 'route'],
    registers,
  });
  const deadLetters = new Gauge({
    name: 'ampersand_slack_dead_letter_messages',
    help: 'Slack messages in the dead letters (refused for good or past the retry horizon), up to SLACK_DEAD_LETTER_MAX.',
    registers,
  });
  // Rebuilt with the state gauges from the stored alert states: an alert is open from its firing until it resolves.
  const alertsFiring = new Gauge({
    name: 'ampersand_alerts_firing',
    help: 'Installations of an integration with an open alert, by condition (unhealthy, operation_failing, bad_credentials): fired after ALERT_AFTER_POLLS bad polls, not yet resolved.',
    labelNames: ['project_id', 'integration_id', 'condition'],
    registers,
  });
  for (const outcome of DELIVERY_OUTCOMES) slack.inc({ outcome }, 0);

  const seenIntegrations = new Set<string>();
  const initErrors = (projectId: string, integrationId: string): void => {
    const key = `${projectId}\u0000${integrationId}`;
    if (seenIntegrations.has(key)) return;
    seenIntegrations.add(key);
    for (const reason of ERROR_REASONS) pollErrors.inc({ project_id: projectId, integration_id: integrationId, reason }, 0);
  };

  return {
    refreshFromState(snapshots) {
      health.reset();
      lastOperation.reset();
      connection.reset();
      info.reset();
      installations.reset();
      lastSuccess.reset();
      alertsFiring.reset();
      for (const stored of snapshots) {
        const base = { project_id: stored.projectId, integration_id: stored.integrationId };
        lastSuccess.set(base, stored.lastSuccessMs / 1000);
        const counts = new Map<string, number>(HEALTH_STATUSES.map((s) => [s, 0]));
        for (const [id, r] of stored.snapshot ?? []) {
          const labels = { ...base, installation_id: id, group_ref: r.groupRef, provider: r.provider };
          for (const [status, value] of oneHot(HEALTH_STATUSES, r.healthStatus)) health.set({ ...labels, status }, value);
          for (const [status, value] of oneHot(OPERATION_STATES, r.lastOperationStatus)) lastOperation.set({ ...labels, status }, value);
          for (const [status, value] of oneHot(CONNECTION_STATUSES, r.connectionStatus)) connection.set({ ...labels, status }, value);
          info.set({ ...labels, group_name: r.groupName }, 1);
          counts.set(r.healthStatus, (counts.get(r.healthStatus) ?? 0) + 1);
        }
        for (const [status, count] of counts) installations.set({ ...base, health_status: status }, count);
        // Stored states not there yet (the release before) are read as the upgrade reads them: what is bad fires.
        const { states } = loadAlertStates(stored.alertStates, stored.snapshot ?? new Map(), new Date(stored.lastSuccessMs));
        const firing = firingCounts(states);
        for (const condition of CONDITIONS) alertsFiring.set({ ...base, condition }, firing[condition]);
      }
    },
    observePoll(projectId, integrationId, seconds) {
      initErrors(projectId, integrationId);
      pollDuration.observe({ project_id: projectId, integration_id: integrationId }, seconds);
    },
    recordPollError(projectId, integrationId, reason) {
      initErrors(projectId, integrationId);
      pollErrors.inc({ project_id: projectId, integration_id: integrationId, reason });
    },
    recordTransitions(projectId, integrationId, list) {
      for (const t of list) transitionsTotal.inc({ project_id: projectId, integration_id: integrationId, field: t.field, from: t.from, to: t.to });
    },
    recordSlackNotification(outcome) {
      slack.inc({ outcome });
    },
    setApiUp(projectId, up) {
      apiUpGauge.set({ project_id: projectId }, up ? 1 : 0);
    },
    setOutboxSize(size, route = 'default') {
      outbox.set({ route }, size);
    },
    setOutboxDropped(total) {
      // A counter set from the shared total: reset, then counted up to it (prom-client has no set for counters).
      outboxDropped.reset();
      outboxDropped.inc(total);
    },
    recordStateUnreadable(projectId, integrationId) {
      unreadable.inc({ project_id: projectId, integration_id: integrationId });
    },
    recordSilenced(projectId, integrationId, condition, kind) {
      silenced.inc({ project_id: projectId, integration_id: integrationId, condition, kind });
    },
    setSlackStatus(status, target, route = 'default') {
      // Unknown until a delivery ran: no series rather than a guess, as for ampersand_api_up.
      // A gauge without labels cannot be absent (prom-client exports 0 after reset()); with
      // labels, remove() drops this route's series and leaves the other routes' alone.
      slackUp.remove({ target, route });
      slackLastSuccess.remove({ target, route });
      if (status.up !== undefined) slackUp.set({ target, route }, status.up ? 1 : 0);
      if (status.lastSuccessMs !== undefined) slackLastSuccess.set({ target, route }, status.lastSuccessMs / 1000);
      deadLetters.set(status.deadLetters);
    },
  };
}

/**
 * `ampersand_health_monitor_build_info{version,revision,nodejs} 1`, the usual
 * `_info` gauge: a constant 1 whose labels say which build each replica runs,
 * to join onto other series or to spot a rollout that did not finish.
 */
function registerBuildInfo(registry: Registry, build: BuildInfo): void {
  const info = new Gauge({
    name: 'ampersand_health_monitor_build_info',
    help: 'Always 1; the labels name the build: version (package.json), revision (source commit of the image, "unknown" outside one), nodejs (Node.js version).',
    labelNames: ['version', 'revision', 'nodejs'],
    registers: [registry],
  });
  info.set({ version: build.version, revision: build.revision, nodejs: build.nodejs }, 1);
}
