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
import { createPollIntegration } from '../jobs/poll-integration.js';
import { createRunCycle } from '../jobs/run-cycle.js';
import { createUpstreamTracker } from '../jobs/track-upstream.js';
import { createAmpersandClient } from './adapters/ampersand-client.js';
import { startHttpServer } from './adapters/http-server.js';
import { createMetrics } from './adapters/metrics.js';
import { createLogNotifier, createSlackWebhookNotifier } from './adapters/slack-notifier.js';
import { createRedisStores } from './adapters/redis/stores.js';
import { ConfigError, parseConfigWithWarnings, type Config } from './config.js';
import { toError } from './core/errors/to-error.js';
import { DEFAULT_DESTINATION } from './core/outbox-entry.js';
import { createFatalHandler, installFatalHandlers } from './fatal-handler.js';
import { createLogger } from './logger.js';
import { createReadiness } from './runtime/readiness.js';
import { connectRedis } from './runtime/redis-connection.js';
import { openRuntime, type StartedRuntime } from './runtime/runtime.js';
import { createScrapeRefresh } from './runtime/scrape-refresh.js';
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
export interface Monitor extends StartedRuntime {
  readonly registry: Registry;
}

export async function startMonitor(config: Config, overrides: MonitorOverrides = {}): Promise<Monitor> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const now = overrides.now ?? (() => new Date());
  const registry = overrides.registry ?? new Registry();
  const metrics = createMetrics(registry);
  const { ampersand: amp, slack, slack: { webhookUrl }, queuePrefix: prefix, forgetAfterMs, upstreamDegradedAfterCycles: degradedAfterCycles } = config;
  const { apiUrl, apiKey, projectId, groupRef, timeoutMs, maxBodyBytes } = amp;
  const redis = await connectRedis(config.redisUrl, logger);
  const stores = createRedisStores({ redis, prefix, deadLetterMax: slack.deadLetterMax });
  const ampersand = createAmpersandClient({ apiUrl, apiKey, projectId, groupRef, timeoutMs, maxBodyBytes, logger: logger.child({ component: 'ampersand' }) });
  const notifier = overrides.notifier ?? (webhookUrl === undefined ? createLogNotifier(logger.child({ component: 'slack' })) : createSlackWebhookNotifier({ webhookUrl, timeoutMs: slack.timeoutMs }));
  const settings = { pollIntervalMs: config.pollIntervalMs, pollConcurrency: config.pollConcurrency, jobLockMs: config.jobLockMs, slackMessagesPerSecond: slack.messagesPerSecond };
  const runtime = openRuntime({ redis, prefix, logger, now, initMarker: stores.initMarker, settings });
  const { delivery, polls, scheduleRegistered } = runtime;
  const upstream = createUpstreamTracker({ store: stores.upstream, logger, projectId, degradedAfterCycles, forgetAfterMs, delivery, now, newId: () => randomUUID() });
  const jobs = {
    pollIntegration: createPollIntegration({ ampersand, snapshots: stores.snapshots, outbox: stores.outbox, metrics, logger, projectId, observer: upstream, delivery, now, newLineage: () => randomUUID().slice(0, 8) }),
    runCycle: createRunCycle({ ampersand, snapshots: stores.snapshots, outbox: stores.outbox, metrics, observer: upstream, logger, projectId, integrationIds: amp.integrationIds, polls, delivery, forgetAfterMs, now }),
    deliver: createDeliverNotification({ outbox: stores.outbox, notifiers: new Map([[DEFAULT_DESTINATION, notifier]]), metrics, logger: logger.child({ component: 'slack' }), delivery, retryHorizonMs: slack.retryHorizonMs, now }),
  };
  // The `target` label of the webhook gauges: the host only, never the secret path.
  const slackMetricTarget = webhookUrl === undefined ? notifier.target : new URL(webhookUrl).hostname;
  const port = overrides.httpPort ?? config.metricsPort;
  const beforeScrape = createScrapeRefresh({ redis, snapshots: stores.snapshots, outbox: stores.outbox, upstream, metrics, slackMetricTarget, projectId });
  const readiness = createReadiness({ redis, outbox: stores.outbox, upstream, scheduleRegistered, notifierTarget: notifier.target });
  const listen = () =>
    startHttpServer({ port, host: config.metricsHost, registry, logger, beforeScrape, readiness }).catch((error: unknown) => {
      throw new Error(`cannot listen on METRICS_HOST:METRICS_PORT (${config.metricsHost}:${port}): ${toError(error).message}`);
    });
  const started = await runtime.start(jobs, listen);
  const integrations = amp.integrationIds.length === 0 ? 'discover' : amp.integrationIds;
  logger.info({ port: started.httpPort, project: projectId, integrations, pollIntervalMs: config.pollIntervalMs, slack: notifier.target, prefix }, 'ampersand-health-monitor started');
  return { httpPort: started.httpPort, registry, close: started.close };
}

/** One scrubbed `fatal:` line on stderr and exit 1, for whatever nobody caught. */
const fatal = createFatalHandler({ write: (line) => process.stderr.write(line), exit: (code) => process.exit(code), env: process.env });

async function main(): Promise<void> {
  // Node would print an uncaught error itself, with its message (and any secret in it) unscrubbed.
  installFatalHandlers(process, fatal);
  // A .env in the working directory, as documented; Node's own reader: the environment wins, as with dotenv.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  let warnings: readonly string[];
  try {
    ({ config, warnings } = parseConfigWithWarnings(process.env));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  for (const warning of warnings) logger.warn(warning);
  const monitor = await startMonitor(config, { logger });
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    // Whatever happens, exit within 10 s.
    setTimeout(() => process.exit(1), 9500).unref();
    const exit = (code: 0 | 1, error?: unknown): never => {
      if (error === undefined) logger.info('stopped');
      else logger.error({ err: error }, 'shutdown failed');
      return process.exit(code);
    };
    monitor.close().then(() => exit(0), (error: unknown) => exit(1, error));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // One line, and no secret whatever threw: a library's message may quote the API key or the webhook.
  main().catch((error: unknown) => fatal(error));
}
