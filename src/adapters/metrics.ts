/**
 * Prometheus metrics, on a Registry the composition root creates and passes
 * in (never prom-client's global one).
 *
 * Two kinds of series live here:
 * - State series (per-installation one-hot status, counts, last successful
 *   poll, open alerts) are brought up to date from the shared Redis state
 *   before every scrape by `refreshFromState`, so every replica exports every
 *   integration and the series of removed installations disappear. Names and
 *   the one-hot layout follow kube-state-metrics (`kube_pod_status_phase{phase=…} 1`).
 *   The per-installation ones are rendered as text and cached per integration
 *   (installation-series.ts), outside prom-client, and only for the
 *   installations METRICS_INSTALLATION_SERIES asks for: `exposition()` appends
 *   them to the registry's text.
 * - Counters and the poll histogram count what this process did; Prometheus
 *   sums them across replicas. Those of an integration that leaves the shared
 *   state (forgotten: run-cycle's retain) go at the next refresh, on every replica.
 */
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { CONDITIONS, type Condition } from '../core/alert-state.js';
import { firingCounts, loadAlertStates } from '../core/alert-states.js';
import {
  connectionValues,
  exportsInstallation,
  familyHeader,
  healthValues,
  installationFamilies,
  installationLines,
  integrationLabels,
  operationValues,
  statusLabel,
  type InstallationSeriesMode,
} from '../core/installation-series.js';
import type { InstallationRecord, Snapshot } from '../core/snapshot.js';
import { ERROR_REASONS } from '../core/errors/ampersand-api-error.js';
import type { Metrics, SlackOutcome, StoredSnapshot } from '../ports.js';

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

/** Which build runs, for `ampersand_health_monitor_build_info`. */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  /** As Node.js reports it (`process.version`, "v24.1.0"), the form of prom-client's `nodejs_version_info`. */
  readonly nodejs: string;
}

export interface MetricsOptions {
  readonly defaultMetrics?: boolean;
  readonly build?: BuildInfo;
  /** METRICS_INSTALLATION_SERIES: which installations get per-installation series ('all' unless given). */
  readonly installationSeries?: InstallationSeriesMode;
  /** Longest a refresh runs before it yields to the event loop (10 ms unless a test changes it). */
  readonly sliceMs?: number;
}

/** The metrics port, and the per-installation families that live outside the registry. */
export interface ServiceMetrics extends Metrics {
  /** The per-installation families as exposition text, to append to the registry's (the shared cached buffers, not copies). */
  exposition(): Buffer[];
}

export function createMetrics(registry: Registry, options: MetricsOptions = {}): ServiceMetrics {
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

  const series = createInstallationSeries({
    mode: options.installationSeries ?? 'all',
    ...(options.sliceMs === undefined ? {} : { sliceMs: options.sliceMs }),
  });
  const installations = new Gauge({
    name: 'ampersand_installations',
    help: 'Number of installations of an integration by health status (other = a value outside the spec).',
    labelNames: ['project_id', 'integration_id', 'health_status'],
    registers,
  });
  // The other two one-hot families as counts, so that shares and dashboards work in every
  // METRICS_INSTALLATION_SERIES mode, the per-installation series on or off.
  const byOperation = new Gauge({
    name: 'ampersand_installations_by_last_operation_status',
    help: 'Number of installations of an integration by the status of their latest operation (success, failure, in_progress, unknown = none reported, other = a value outside the spec).',
    labelNames: ['project_id', 'integration_id', 'status'],
    registers,
  });
  const byConnection = new Gauge({
    name: 'ampersand_installations_by_connection_status',
    help: 'Number of installations of an integration by connection status (created, working, bad_credentials, other = a value outside the spec).',
    labelNames: ['project_id', 'integration_id', 'status'],
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

  /** This process's series of an integration: dropped with it when it leaves the shared state. */
  const perIntegration = [transitionsTotal, pollDuration, pollErrors, unreadable, silenced];
  const dropIntegration = async (integrationId: string): Promise<void> => {
    for (const metric of perIntegration) {
      const { values } = await metric.get();
      for (const { labels } of values) {
        if (labels.integration_id !== integrationId) continue;
        // A histogram's values carry `le`; its label set is the rest.
        const { le: _le, ...set } = labels as Record<string, string | number>;
        metric.remove(set);
      }
    }
    for (const key of seenIntegrations) if (key.endsWith(`\u0000${integrationId}`)) seenIntegrations.delete(key);
  };
  /** The integrations of the last refresh: one missing from the next was forgotten. */
  let stored = new Set<string>();

  return {
    stateTokens: () => series.tokens(),
    exposition: () => series.chunks(),
    async refreshFromState(readings) {
      for (const r of readings) if (r.changed !== undefined) await series.update(r.changed, r.token);
      const now = new Set(readings.map((r) => r.integrationId));
      series.retain(now);
      for (const id of stored) if (!now.has(id)) await dropIntegration(id);
      stored = now;
      // Small (a few series per integration): rebuilt whole, after the slices above, in one go.
      installations.reset();
      byOperation.reset();
      byConnection.reset();
      lastSuccess.reset();
      alertsFiring.reset();
      for (const r of readings) {
        const base = { project_id: r.projectId, integration_id: r.integrationId };
        lastSuccess.set(base, r.lastSuccessMs / 1000);
        const counts = series.aggregates(r.integrationId);
        if (counts === undefined) continue;
        for (const [status, n] of counts.health) if (n > 0 || status !== 'other') installations.set({ ...base, health_status: status }, n);
        for (const [status, n] of counts.operation) if (n > 0 || status !== 'other') byOperation.set({ ...base, status }, n);
        for (const [status, n] of counts.connection) if (n > 0 || status !== 'other') byConnection.set({ ...base, status }, n);
        for (const condition of CONDITIONS) alertsFiring.set({ ...base, condition }, counts.firing[condition]);
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

// ---------------------------------------------------------------------------
// The per-installation series (core/installation-series.ts), kept as rendered
// text per integration and rebuilt only for the integrations whose stored state
// changed since the last scrape (the store's token says which). Rebuilding one
// runs in slices: it yields to the event loop (setImmediate) whenever a slice
// has run for `sliceMs`, so a scrape of 100,000 installations never holds the
// loop for long and polls, deliveries and other requests run meanwhile. The
// aggregates (counts by status, open alerts) come from the same pass, over
// every installation whatever the mode.
// ---------------------------------------------------------------------------

/** Counts of one integration's installations, by the `status` label each family gives them, and its open alerts. */
interface IntegrationAggregates {
  readonly health: ReadonlyMap<string, number>;
  readonly operation: ReadonlyMap<string, number>;
  readonly connection: ReadonlyMap<string, number>;
  readonly firing: Readonly<Record<Condition, number>>;
  /** Installations given per-installation series in this mode. */
  readonly exported: number;
}

interface Cached {
  readonly token: string;
  /** Per family (installationFamilies' order), this integration's lines. */
  readonly families: readonly (readonly Buffer[])[];
  readonly aggregates: IntegrationAggregates;
}

interface InstallationSeries {
  /** The token of the state each cached integration was rendered from. */
  tokens(): ReadonlyMap<string, string>;
  /** Renders one integration from its stored state (in slices), replacing what was cached for it. */
  update(stored: StoredSnapshot, token: string): Promise<IntegrationAggregates>;
  aggregates(integrationId: string): IntegrationAggregates | undefined;
  /** Drops the cached integrations not in `keep`. */
  retain(keep: ReadonlySet<string>): void;
  /** The exposition of the four families: each family's header, then every integration's lines. No copy of the cached text is made. */
  chunks(): Buffer[];
}

/** Lines gathered into one string before it becomes a Buffer: big enough that chunks are few, small enough to stay cheap to copy. */
const chunkChars = 256 * 1024;
/** How often the slice checks the clock: every this many installations. */
const checkEvery = 256;

function createInstallationSeries(options: { readonly mode: InstallationSeriesMode; readonly sliceMs?: number }): InstallationSeries {
  const { mode } = options;
  const sliceMs = options.sliceMs ?? 10;
  const cache = new Map<string, Cached>();
  const headers = installationFamilies.map((f) => Buffer.from(familyHeader(f)));
  const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  return {
    tokens() {
      return new Map([...cache].map(([id, c]) => [id, c.token]));
    },

    async update(stored, token) {
      const snapshot: Snapshot = stored.snapshot ?? new Map<string, InstallationRecord>();
      const health = new Map<string, number>(healthValues.map((v) => [v, 0]));
      const operation = new Map<string, number>(operationValues.map((v) => [v, 0]));
      const connection = new Map<string, number>(connectionValues.map((v) => [v, 0]));
      const families: Buffer[][] = installationFamilies.map(() => []);
      const pending = installationFamilies.map(() => '');
      const flush = (i: number): void => {
        const text = pending[i] ?? '';
        if (text.length > 0) families[i]?.push(Buffer.from(text));
        pending[i] = '';
      };
      const integration = integrationLabels(stored.projectId, stored.integrationId);
      let exported = 0;
      let n = 0;
      let sliceStart = performance.now();
      for (const [id, record] of snapshot) {
        const count = (map: Map<string, number>, known: readonly string[], value: string): void => {
          const label = statusLabel(known, value);
          map.set(label, (map.get(label) ?? 0) + 1);
        };
        count(health, healthValues, record.healthStatus);
        count(operation, operationValues, record.lastOperationStatus);
        count(connection, connectionValues, record.connectionStatus);
        if (exportsInstallation(mode, record)) {
          exported += 1;
          const lines = installationLines(integration, id, record);
          for (let i = 0; i < lines.length; i++) {
            pending[i] = (pending[i] ?? '') + (lines[i] ?? '');
            if ((pending[i]?.length ?? 0) >= chunkChars) flush(i);
          }
        }
        if (++n % checkEvery === 0 && performance.now() - sliceStart >= sliceMs) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
      }
      for (let i = 0; i < pending.length; i++) flush(i);
      // Stored states not there yet (the release before) are read as the upgrade reads them: what is bad fires.
      const { states } = loadAlertStates(stored.alertStates, snapshot, new Date(stored.lastSuccessMs));
      const aggregates: IntegrationAggregates = { health, operation, connection, firing: firingCounts(states), exported };
      cache.set(stored.integrationId, { token, families, aggregates });
      return aggregates;
    },

    aggregates(integrationId) {
      return cache.get(integrationId)?.aggregates;
    },

    retain(keep) {
      for (const id of cache.keys()) if (!keep.has(id)) cache.delete(id);
    },

    chunks() {
      const out: Buffer[] = [];
      headers.forEach((header, i) => {
        out.push(header);
        for (const c of cache.values()) out.push(...(c.families[i] ?? []));
      });
      return out;
    },
  };
}
