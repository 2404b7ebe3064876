/**
 * The composition root: config → adapters → jobs → runtime, and the signals.
 * `startMonitor` is exported so that tests (and the demo) run the real wiring
 * in-process; running this file starts the service and handles SIGTERM/SIGINT.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createDeliverNotification } from '../jobs/deliver-notification.js';
import { createFailureDetailsFetcher } from '../jobs/fetch-failure-details.js';
import { createPollIntegration } from '../jobs/poll-integration.js';
import { createPollProject } from '../jobs/poll-project.js';
import { createProviderNameCache } from '../jobs/provider-names.js';
import { createRunCycle } from '../jobs/run-cycle.js';
import { createUpstreamTracker } from '../jobs/track-upstream.js';
import { createAmpersandClient } from './adapters/ampersand-client.js';
import { createByteBudget } from './byte-budget.js';
import { startHttpServer } from './adapters/http-server.js';
import { createMetrics } from './adapters/metrics.js';
import { createLogNotifier, createSlackWebhookNotifier } from './adapters/slack-notifier.js';
import { createRedisStores } from './adapters/redis/stores.js';
import { adoptLanes } from './adapters/redis/outbox.js';
import { laneNames } from './core/routing.js';
import { ConfigError, type Config } from './config.js';
import { loadConfig } from './load-config.js';
import { toError } from './core/errors/to-error.js';
import { DEFAULT_DESTINATION } from './core/outbox-entry.js';
import { compileWindows, NO_MUTE_RULES, type MuteRules } from './core/silences.js';
import { createFatalHandler, installFatalHandlers } from './fatal-handler.js';
import { createLogger } from './logger.js';
import { createReadiness } from './runtime/readiness.js';
import { connectRedis } from './runtime/redis-connection.js';
import { openRuntime, type StartedRuntime } from './runtime/runtime.js';
import { createScrapeRefresh } from './runtime/scrape-refresh.js';
import { createStatusPage } from './runtime/status-page.js';
import { serviceBuild } from './service-version.js';
import type { AmpersandClient, AmpersandProjects, Notifier } from './ports.js';

export interface MonitorOverrides {
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** Replaces the notifier of the Slack destination (the demo prints messages instead of posting them). */
  readonly notifier?: Notifier;
  readonly now?: () => Date;
  /** Port of the HTTP server in place of METRICS_PORT: tests pass 0 for a free one (the config refuses 0). */
  readonly httpPort?: number;
}

/** The running service: `close` stops taking jobs, finishes or releases the current ones, closes Redis and HTTP. */
export type Monitor = StartedRuntime & { readonly registry: Registry };

export async function startMonitor(config: Config, overrides: MonitorOverrides = {}): Promise<Monitor> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const now = overrides.now ?? (() => new Date());
  const registry = overrides.registry ?? new Registry();
  const build = { ...serviceBuild(), nodejs: process.version };
  const { ampersand: amp, slack, queuePrefix: prefix, forgetAfterMs, pollIntervalMs, pollConcurrency, jobLockMs } = config;
  const { projects, listMode } = config;
  const [firstProject] = projects;
  if (firstProject === undefined) throw new ConfigError(['no project to watch: set AMPERSAND_PROJECT_ID, or list `projects` in the MONITOR_CONFIG file']);
  // The first watched project: jobs of the release before name none, and it inherits that release's upstream state.
  const projectId = firstProject.id;
  const redis = await connectRedis({ url: config.redisUrl, cluster: config.redisCluster, sentinel: config.redisSentinel }, logger);
  const {
    snapshots,
    outbox,
    lane: laneOutbox,
    upstream: upstreamStore,
    initMarker,
  } = createRedisStores({
    redis,
    prefix,
    deadLetterMax: slack.deadLetterMax,
    outboxMax: slack.outboxMax,
    coalesce: slack.outboxCoalesce,
    legacyProjectId: projectId,
  });
  // One client per watched project, each with its groupRef: every call names its project.
  const ampersandLogger = logger.child({ component: 'ampersand' });
  // One memory budget for the bodies of every project's client (AMPERSAND_MAX_BODY_MB is per process).
  const bodyBudget = createByteBudget(amp.maxBodyBytes);
  const clients = new Map(
    projects.map((p) => [p.id, createAmpersandClient({ ...amp, projectId: p.id, groupRef: p.groupRef, bodyBudget, logger: ampersandLogger })] as const),
  );
  const ampersand: AmpersandProjects<AmpersandClient> = { forProject: (id) => clients.get(id) };
  const firstClient = createAmpersandClient({ ...amp, projectId, groupRef: firstProject.groupRef, bodyBudget, logger: ampersandLogger });
  const slackLogger = logger.child({ component: 'slack' });
  const { policy, ampersandDashboardUrl, runbookUrl } = config.alerts;
  const links = { ampersandDashboardUrl, ...(runbookUrl === undefined ? {} : { runbookUrl }) };
  const webhook = slack.webhookUrl === undefined ? undefined : createSlackWebhookNotifier({ webhookUrl: slack.webhookUrl, timeoutMs: slack.timeoutMs, links });
  const notifier = overrides.notifier ?? webhook ?? createLogNotifier(slackLogger, links);
  // Each route of the monitor configuration file: its own webhook, outbox lane, delivery queue and
  // worker, named by the route's name in logs and metrics (never by its URL).
  const routes = config.monitor?.routes ?? [];
  const routeLanes = routes.map((route) => ({
    route,
    outbox: laneOutbox(route.name),
    target: new URL(route.webhookUrl).hostname,
    notifier: createSlackWebhookNotifier({
      webhookUrl: route.webhookUrl,
      timeoutMs: slack.timeoutMs,
      links,
      wording: { service: 'Slack', endpoint: `webhook of route ${route.name}`, fixHint: `Check ${route.webhookSource} and the channel.` },
    }),
  }));
  // A route removed from the configuration: its waiting entries go to the default route rather than be
  // lost. At start, and at every cycle (a replica still on the old configuration may append to it).
  const adoptRemovedLanes = async (log: Logger): Promise<void> => {
    for (const { route, moved } of await adoptLanes(redis, prefix, laneNames(routes))) {
      log.warn(
        { route, moved },
        `route ${route} is no longer in the monitor configuration: its ${moved} waiting message(s) are moved to the default route (SLACK_WEBHOOK_URL)`,
      );
    }
  };
  await adoptRemovedLanes(logger);
  const settings = { pollIntervalMs, pollConcurrency, jobLockMs, slackMessagesPerSecond: slack.messagesPerSecond };
  const runtime = openRuntime({ redis, prefix, logger, now, initMarker, settings });
  const { delivery, polls, scheduleRegistered } = runtime;
  // What the jobs share; each factory takes the part its deps name.
  const metrics = createMetrics(registry, { build, installationSeries: config.metricsInstallationSeries });
  const lanes = routeLanes.map(({ route, outbox: lane }) => ({ name: route.name, outbox: lane }));
  const shared = { ampersand, snapshots, outbox, lanes, metrics, logger, projectId, delivery, polls, forgetAfterMs, now };
  const { upstreamDegradedAfterCycles: degradedAfterCycles } = config;
  const projectIds = projects.map((p) => p.id);
  const upstream = createUpstreamTracker({ ...shared, projects: projectIds, store: upstreamStore, degradedAfterCycles, routes, newId: () => randomUUID() });
  const notifiers = new Map([[DEFAULT_DESTINATION, notifier], ...routeLanes.map((l) => [l.route.name, l.notifier] as const)]);
  const perCycle = config.alerts.failureDetailsPerCycle;
  // The file's silences and maintenance windows, the cron expressions compiled once; each poll works out which are in force.
  const muting: MuteRules =
    config.monitor === undefined ? NO_MUTE_RULES : { silences: config.monitor.silences, windows: compileWindows(config.monitor.maintenance) };
  const failureDetails = createFailureDetailsFetcher({ ampersand, logger: logger.child({ component: 'failure-details' }), now, perCycle });
  const pollIntegration = createPollIntegration({
    ...shared,
    observer: upstream,
    newLineage: () => randomUUID().slice(0, 8),
    policy,
    failureDetails,
    massEvent: config.massEvent,
    routes,
    muting,
    // GET /providers names no project: the first watched project's client (its key) asks it.
    providerNames: createProviderNameCache({ ampersand: firstClient, logger: logger.child({ component: 'provider-names' }), now }),
  });
  const jobs = {
    pollIntegration,
    pollProject: createPollProject({ ampersand, pollIntegration, logger }),
    runCycle: createRunCycle({ ...shared, observer: upstream, projects, listMode, adoptRemovedLanes }),
    deliver: createDeliverNotification({ ...shared, notifiers, logger: slackLogger, retryHorizonMs: slack.retryHorizonMs }),
    deliverLanes: new Map(
      routeLanes.map(({ route, outbox: lane }) => [
        route.name,
        createDeliverNotification({ ...shared, outbox: lane, lane: route.name, notifiers, logger: slackLogger, retryHorizonMs: slack.retryHorizonMs }),
      ]),
    ),
  };
  const lanesShown = routeLanes.map((l) => ({ name: l.route.name, target: l.target, outbox: l.outbox }));
  // The `target` label of the webhook gauges: the host only, never the secret path.
  const slackMetricTarget = slack.webhookUrl === undefined ? notifier.target : new URL(slack.webhookUrl).hostname;
  const beforeScrape = createScrapeRefresh({ ...shared, projects: projectIds, redis, upstream, slackMetricTarget, routeLanes: lanesShown });
  const readiness = createReadiness({ redis, outbox, upstream, scheduleRegistered, notifierTarget: notifier.target, routeLanes: lanesShown });
  const statusPage = createStatusPage({
    ...shared,
    redis,
    upstream,
    slackTarget: slackMetricTarget,
    routeLanes: lanesShown,
    muting,
    settings: { projectId: projectIds.join(', '), pollIntervalMs, dashboardUrl: config.dashboardUrl },
  });
  const [port, host] = [overrides.httpPort ?? config.metricsPort, config.metricsHost];
  const listen = () =>
    startHttpServer({ port, host, registry, logger, beforeScrape, exposition: () => metrics.exposition(), readiness, statusPage }).catch((error: unknown) => {
      throw new Error(`cannot listen on METRICS_HOST:METRICS_PORT (${host}:${port}): ${toError(error).message}`);
    });
  const { httpPort, close } = await runtime.start(jobs, listen);
  const watched = projects.map((p) => ({
    id: p.id,
    integrations: p.integrationIds ?? 'discover',
    ...(p.groupRef === undefined ? {} : { groupRef: p.groupRef }),
  }));
  // The one-project fields as before, so that log queries keep working; `projects` with several.
  const [only] = watched;
  const scope = watched.length === 1 && only !== undefined ? { project: only.id, integrations: only.integrations } : { projects: watched };
  // `version` is on every line already (the logger's base); the revision and Node.js only here, once.
  const { revision, nodejs } = build;
  logger.info(
    { port: httpPort, ...scope, listMode, pollIntervalMs, slack: notifier.target, routes: routes.map((r) => r.name), prefix, revision, nodejs },
    'ampersand-health-monitor started',
  );
  return { httpPort, registry, close };
}

/**
 * How long after SIGTERM or SIGINT the process exits whatever is still running
 * (with exit code 1 then): within 10 s, and below the Kubernetes Deployment's
 * terminationGracePeriodSeconds, which test/deploy/kubernetes.test.ts compares with this.
 */
export const shutdownDeadlineMs = 9500;

/** One scrubbed `fatal:` line on stderr and exit 1, for whatever nobody caught. */
const fatal = createFatalHandler({ write: (line) => process.stderr.write(line), exit: (code) => process.exit(code), env: process.env });

async function main(): Promise<void> {
  // Node would print an uncaught error itself, with its message (and any secret in it) unscrubbed.
  installFatalHandlers(process, fatal);
  // A .env in the working directory, as documented; Node's own reader: the environment wins, as with dotenv.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const parsed = await loadConfig(process.env);
  if (parsed instanceof ConfigError) {
    process.stderr.write(`${parsed.message}\n`);
    process.exit(2);
  }
  const { config, warnings } = parsed;
  const logger = createLogger(config.logLevel);
  for (const warning of warnings) logger.warn(warning);
  const monitor = await startMonitor(config, { logger });
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    // Whatever happens, exit within 10 s.
    setTimeout(() => process.exit(1), shutdownDeadlineMs).unref();
    const stopped = (error?: unknown): never => {
      if (error === undefined) logger.info('stopped');
      else logger.error({ err: error }, 'shutdown failed');
      return process.exit(error === undefined ? 0 : 1);
    };
    monitor.close().then(() => stopped(), stopped);
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // One line, and no secret whatever threw: a library's message may quote the API key or the webhook.
  main().catch((error: unknown) => fatal(error));
}
