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
import { createRunCycle } from '../jobs/run-cycle.js';
import { createUpstreamTracker } from '../jobs/track-upstream.js';
import { createAmpersandClient } from './adapters/ampersand-client.js';
import { startHttpServer } from './adapters/http-server.js';
import { createMetrics } from './adapters/metrics.js';
import { createLogNotifier, createSlackWebhookNotifier } from './adapters/slack-notifier.js';
import { createRedisStores } from './adapters/redis/stores.js';
import { ConfigError, type Config } from './config.js';
import { loadConfig } from './load-config.js';
import { toError } from './core/errors/to-error.js';
import { DEFAULT_DESTINATION } from './core/outbox-entry.js';
import { createFatalHandler, installFatalHandlers } from './fatal-handler.js';
import { createLogger } from './logger.js';
import { createReadiness } from './runtime/readiness.js';
import { connectRedis } from './runtime/redis-connection.js';
import { openRuntime, type StartedRuntime } from './runtime/runtime.js';
import { createScrapeRefresh } from './runtime/scrape-refresh.js';
import { createStatusPage } from './runtime/status-page.js';
import { serviceBuild } from './service-version.js';
import type { Notifier } from './ports.js';

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
  const { projectId, integrationIds } = amp;
  const redis = await connectRedis(config.redisUrl, logger);
  const {
    snapshots,
    outbox,
    upstream: upstreamStore,
    initMarker,
  } = createRedisStores({
    redis,
    prefix,
    deadLetterMax: slack.deadLetterMax,
    outboxMax: slack.outboxMax,
    coalesce: slack.outboxCoalesce,
  });
  const ampersand = createAmpersandClient({ ...amp, logger: logger.child({ component: 'ampersand' }) });
  const slackLogger = logger.child({ component: 'slack' });
  const { policy, ampersandDashboardUrl, runbookUrl } = config.alerts;
  const links = { ampersandDashboardUrl, ...(runbookUrl === undefined ? {} : { runbookUrl }) };
  const webhook = slack.webhookUrl === undefined ? undefined : createSlackWebhookNotifier({ webhookUrl: slack.webhookUrl, timeoutMs: slack.timeoutMs, links });
  const notifier = overrides.notifier ?? webhook ?? createLogNotifier(slackLogger, links);
  const settings = { pollIntervalMs, pollConcurrency, jobLockMs, slackMessagesPerSecond: slack.messagesPerSecond };
  const runtime = openRuntime({ redis, prefix, logger, now, initMarker, settings });
  const { delivery, polls, scheduleRegistered } = runtime;
  // What the jobs share; each factory takes the part its deps name.
  const metrics = createMetrics(registry, { build, installationSeries: config.metricsInstallationSeries });
  const shared = { ampersand, snapshots, outbox, metrics, logger, projectId, delivery, polls, forgetAfterMs, now };
  const { upstreamDegradedAfterCycles: degradedAfterCycles } = config;
  const upstream = createUpstreamTracker({ ...shared, store: upstreamStore, degradedAfterCycles, newId: () => randomUUID() });
  const notifiers = new Map([[DEFAULT_DESTINATION, notifier]]);
  const perCycle = config.alerts.failureDetailsPerCycle;
  const failureDetails = createFailureDetailsFetcher({ ampersand, logger: logger.child({ component: 'failure-details' }), now, perCycle });
  const jobs = {
    pollIntegration: createPollIntegration({
      ...shared,
      observer: upstream,
      newLineage: () => randomUUID().slice(0, 8),
      policy,
      failureDetails,
      massEvent: config.massEvent,
    }),
    runCycle: createRunCycle({ ...shared, observer: upstream, integrationIds }),
    deliver: createDeliverNotification({ ...shared, notifiers, logger: slackLogger, retryHorizonMs: slack.retryHorizonMs }),
  };
  // The `target` label of the webhook gauges: the host only, never the secret path.
  const slackMetricTarget = slack.webhookUrl === undefined ? notifier.target : new URL(slack.webhookUrl).hostname;
  const beforeScrape = createScrapeRefresh({ ...shared, redis, upstream, slackMetricTarget });
  const readiness = createReadiness({ redis, outbox, upstream, scheduleRegistered, notifierTarget: notifier.target });
  const statusPage = createStatusPage({
    ...shared,
    redis,
    upstream,
    slackTarget: slackMetricTarget,
    settings: { projectId, pollIntervalMs, dashboardUrl: config.dashboardUrl },
  });
  const [port, host] = [overrides.httpPort ?? config.metricsPort, config.metricsHost];
  const listen = () =>
    startHttpServer({ port, host, registry, logger, beforeScrape, exposition: () => metrics.exposition(), readiness, statusPage }).catch((error: unknown) => {
      throw new Error(`cannot listen on METRICS_HOST:METRICS_PORT (${host}:${port}): ${toError(error).message}`);
    });
  const { httpPort, close } = await runtime.start(jobs, listen);
  const integrations = integrationIds.length === 0 ? 'discover' : integrationIds;
  // `version` is on every line already (the logger's base); the revision and Node.js only here, once.
  const { revision, nodejs } = build;
  logger.info(
    { port: httpPort, project: projectId, integrations, pollIntervalMs, slack: notifier.target, prefix, revision, nodejs },
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
