/**
 * The composition root: the one place that builds the adapters, wires them
 * into the jobs, and starts the scheduler, the workers and the HTTP server.
 * `startMonitor` is exported so that tests (and the demo) run the real wiring
 * in-process; running this file starts the service and handles SIGTERM/SIGINT.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createDeliverNotification, type DeliverJobData } from '../jobs/deliver-notification.js';
import { createPollIntegration, type PollJobData } from '../jobs/poll-integration.js';
import { createRunCycle } from '../jobs/run-cycle.js';
import { createAmpersandClient } from './adapters/ampersand-client.js';
import { startHttpServer } from './adapters/http-server.js';
import { createMetrics } from './adapters/metrics.js';
import { createLogNotifier, createSlackWebhookNotifier, type SlackNotifier } from './adapters/slack-notifier.js';
import { createRedisStateStore } from './adapters/state-store.js';
import { probeRedis } from './adapters/redis-reachability.js';
import { ConfigError, parseConfigWithWarnings, type Config } from './config.js';
import { createLogger } from './logger.js';
import { RedisUnreachableError } from './errors/redis-unreachable-error.js';
import { SlackDeliveryError } from './errors/slack-delivery-error.js';
import { toError } from './errors/to-error.js';
import { createFatalHandler, installFatalHandlers } from './fatal-handler.js';
import { createUpstreamTracker } from './upstream-tracker.js';

/** The one job scheduler id: restarts, replicas and config changes all upsert this same one. */
export const SCHEDULER_ID = 'ampersand-poll-cycle';
/** BullMQ queue names (under QUEUE_PREFIX): poll cycles and polls, and Slack delivery. */
export const BULLMQ_QUEUES = { poll: 'poll', alerts: 'alerts' } as const;

/** How long shutdown waits for running jobs; the process must exit within 10 s. */
const SHUTDOWN_GRACE_MS = 7500;
/** What releasing jobs, closing the queues, HTTP and Redis may take together after that grace: 9 s in all, 1 s short of the limit. */
const AFTER_GRACE_BUDGET_MS = 1500;

/** How long start-up waits for Redis to answer; with the rest of start-up, a missing Redis ends the process within 10 s. */
const STARTUP_PROBE_TIMEOUT_MS = 5000;

/** Slack retries back off exponentially from 1 s up to this. */
const MAX_SLACK_BACKOFF_MS = 5 * 60_000;

export interface MonitorOverrides {
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** Replaces the Slack notifier (the demo prints messages instead of posting them). */
  readonly notifier?: SlackNotifier;
  readonly now?: () => Date;
  /** Port of the HTTP server in place of METRICS_PORT: tests pass 0 for a free one (the config refuses 0). */
  readonly httpPort?: number;
}

export interface Monitor {
  readonly httpPort: number;
  readonly registry: Registry;
  /** Stops taking jobs, finishes or releases the current ones, closes Redis and HTTP. */
  close(): Promise<void>;
}

export async function startMonitor(config: Config, overrides: MonitorOverrides = {}): Promise<Monitor> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const now = overrides.now ?? (() => new Date());
  const registry = overrides.registry ?? new Registry();
  const metrics = createMetrics(registry);
  const prefix = config.queuePrefix;
  const { ampersand: amp } = config;

  const redis = new Redis(config.redisUrl, {
    // BullMQ needs this; commands wait for a reconnect instead of failing a poll half-way.
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(200 * 2 ** attempt, 10_000),
    lazyConnect: true,
  });
  // One clear line and an exit when Redis is missing at start, rather than a retry loop.
  const unreachable = await probeRedis(config.redisUrl, STARTUP_PROBE_TIMEOUT_MS);
  if (unreachable !== undefined) throw new RedisUnreachableError(config.redisUrl, unreachable);
  redis.on('error', (err: Error) => logger.warn({ err }, 'Redis connection error'));
  await redis.connect();
  await warnAboutEvictionPolicy(redis, logger);

  const store = createRedisStateStore({ redis, prefix, deadLetterMax: config.slack.deadLetterMax });
  const ampersand = createAmpersandClient({
    apiUrl: amp.apiUrl,
    apiKey: amp.apiKey,
    projectId: amp.projectId,
    groupRef: amp.groupRef,
    timeoutMs: amp.timeoutMs,
    maxBodyBytes: amp.maxBodyBytes,
    logger: logger.child({ component: 'ampersand' }),
  });
  const notifier =
    overrides.notifier ??
    (config.slack.webhookUrl === undefined
      ? createLogNotifier(logger.child({ component: 'slack' }))
      : createSlackWebhookNotifier({ webhookUrl: config.slack.webhookUrl, timeoutMs: config.slack.timeoutMs }));
  // The `target` label of the webhook gauges: the host only, never the secret path.
  const slackMetricTarget = config.slack.webhookUrl === undefined ? notifier.target : new URL(config.slack.webhookUrl).hostname;

  const pollQueue = new Queue(BULLMQ_QUEUES.poll, { connection: redis, prefix });
  const alertsQueue = new Queue(BULLMQ_QUEUES.alerts, { connection: redis, prefix });
  pollQueue.on('error', (err) => logger.warn({ err }, 'poll queue error'));
  alertsQueue.on('error', (err) => logger.warn({ err }, 'alerts queue error'));

  /**
   * Makes sure the outbox head has a delivery job. Callers pass an id they read
   * as the head (from a commit, a pop or LINDEX): the outbox only appends at the
   * tail and pops the head, so such an entry stays head until it is delivered,
   * and its job, named after it, can never be completed before that.
   */
  const kickDelivery = async (entryId: string): Promise<void> => {
    await alertsQueue.add(
      'deliver',
      { entryId },
      {
        jobId: `deliver.${entryId}`,
        // The retry horizon ends retries, not the attempt count.
        attempts: Number.MAX_SAFE_INTEGER,
        backoff: { type: 'capped-exponential' },
        removeOnComplete: { count: 1000 },
        removeOnFail: { age: 7 * 86_400 },
      },
    );
  };

  const enqueuePoll = async (integrationId: string, cycleId: string): Promise<void> => {
    const data: PollJobData = { integrationId, cycleId };
    await pollQueue.add('poll', data, {
      // One queued-or-running poll per integration: a slow or hanging API never piles up jobs.
      deduplication: { id: `poll.${encodeURIComponent(integrationId)}` },
      attempts: 1,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
  };

  const upstream = createUpstreamTracker({
    store,
    logger,
    projectId: amp.projectId,
    degradedAfterCycles: config.upstreamDegradedAfterCycles,
    forgetAfterMs: config.forgetAfterMs,
    kickDelivery,
    now,
    newId: () => randomUUID(),
  });

  const pollIntegration = createPollIntegration({
    ampersand,
    store,
    metrics,
    logger,
    projectId: amp.projectId,
    observer: upstream,
    kickDelivery,
    now,
    newLineage: () => randomUUID().slice(0, 8),
  });
  const runCycle = createRunCycle({
    ampersand,
    store,
    metrics,
    observer: upstream,
    logger,
    projectId: amp.projectId,
    integrationIds: amp.integrationIds,
    enqueuePoll,
    kickDelivery,
    forgetAfterMs: config.forgetAfterMs,
    now,
  });
  const deliver = createDeliverNotification({
    store,
    notifier,
    metrics,
    logger: logger.child({ component: 'slack' }),
    kickDelivery,
    retryHorizonMs: config.slack.retryHorizonMs,
    now,
  });

  const lockDuration = config.jobLockMs;
  const pollWorker = new Worker(
    BULLMQ_QUEUES.poll,
    async (job: Job) => {
      if (job.name === 'cycle') return runCycle(job.id ?? String(job.timestamp), job.id);
      if (job.name === 'poll') return pollIntegration(job.data as PollJobData, job.id);
      logger.warn({ jobId: job.id, name: job.name }, 'unknown job in the poll queue; ignored');
      return undefined;
    },
    { connection: redis, prefix, concurrency: config.pollConcurrency, lockDuration, stalledInterval: lockDuration, autorun: false },
  );
  const alertsWorker: Worker = new Worker(
    BULLMQ_QUEUES.alerts,
    async (job: Job) => {
      const outcome = await deliver(job.data as DeliverJobData, job.id);
      if (outcome.status === 'rate_limited') {
        // Worker#rateLimit is deprecated in BullMQ 6; the queue's sets the same limit key.
        await alertsQueue.rateLimit(outcome.retryAfterMs);
        throw Worker.RateLimitError();
      }
      // A broken webhook pauses delivery: the head job is retried with the capped backoff, never dead-lettered.
      if (outcome.status === 'retry' || outcome.status === 'paused') throw outcome.error;
      // Given up (rejected by Slack, or past the retry horizon): the message is in the dead
      // letters; failing the job keeps it in BullMQ's failed set for inspection as well.
      if (outcome.status === 'dead') throw new UnrecoverableError(outcome.reason);
      return outcome;
    },
    {
      connection: redis,
      prefix,
      concurrency: 1,
      // About one message per second per webhook (SLACK_MESSAGES_PER_SECOND), across every replica.
      limiter: slackLimiter(config.slack.messagesPerSecond),
      lockDuration,
      stalledInterval: lockDuration,
      // A delivery job whose process died is always taken over: failing it as "stalled too
      // often" would leave its message at the outbox head with no job to send it.
      maxStalledCount: 1_000_000,
      autorun: false,
      settings: { backoffStrategy: (attemptsMade: number) => Math.min(1000 * 2 ** Math.max(0, attemptsMade - 1), MAX_SLACK_BACKOFF_MS) },
    },
  );
  for (const worker of [pollWorker, alertsWorker]) {
    worker.on('error', (err) => logger.warn({ err }, 'worker error'));
    worker.on('failed', (job, err) => {
      // Slack failures and dead letters are logged by the delivery job itself, with their reason;
      // anything else (Redis trouble, a bug) is logged here, as it will be retried.
      if (job?.name === 'deliver' && (err instanceof SlackDeliveryError || err instanceof UnrecoverableError)) return;
      logger.error({ jobId: job?.id, name: job?.name, err }, 'job failed');
    });
  }

  // The schedule: upserted at start (a new interval takes effect), and registered
  // again whenever it is found missing (Redis restarted without persistence).
  let scheduleRegistered = false;
  let everInitialised = false;
  const ensureSchedule = async (force: boolean): Promise<void> => {
    const initialised = await store.isInitialised();
    if (!initialised && everInitialised) {
      logger.warn('Redis holds no state of this deployment any more (restarted without persistence?): registering the schedule again; every integration starts a fresh baseline, without per-installation alerts');
    }
    if (force || !initialised || !(await pollQueue.getJobScheduler(SCHEDULER_ID))) {
      await pollQueue.upsertJobScheduler(SCHEDULER_ID, { every: config.pollIntervalMs }, { name: 'cycle', data: {}, opts: { removeOnComplete: 100, removeOnFail: 100 } });
      for (const other of await pollQueue.getJobSchedulers()) {
        if (other.key !== SCHEDULER_ID && other.id !== SCHEDULER_ID) {
          await pollQueue.removeJobScheduler(other.key);
          logger.info({ scheduler: other.key }, 'removed a stale job scheduler');
        }
      }
    }
    await store.markInitialised(now().getTime());
    everInitialised = true;
    scheduleRegistered = true;
  };
  // The HTTP server first: a METRICS_HOST or METRICS_PORT it cannot listen on stops start-up
  // before any job ran. /readyz says "not ready" until the schedule is registered below.
  const listenFailed = async (error: unknown): Promise<never> => {
    await Promise.allSettled([pollWorker.close(true), alertsWorker.close(true), pollQueue.close(), alertsQueue.close()]);
    redis.disconnect();
    const port = overrides.httpPort ?? config.metricsPort;
    throw new Error(`cannot listen on METRICS_HOST:METRICS_PORT (${config.metricsHost}:${port}): ${toError(error).message}`);
  };
  const http = await startHttpServer({
    port: overrides.httpPort ?? config.metricsPort,
    host: config.metricsHost,
    registry,
    logger,
    beforeScrape: async () => {
      // Commands wait for a reconnect; a scrape must not. Without Redis, the last values are served.
      if (redis.status !== 'ready') throw new Error(`Redis connection is ${redis.status}`);
      const refresh = Promise.all([store.loadAll(), store.outboxSize(), upstream.apiUp(), store.slackStatus()]);
      const result = await Promise.race([refresh, delay(2000).then(() => undefined)]);
      if (result === undefined) throw new Error('Redis did not answer within 2 s');
      const [snapshots, outbox, apiUp, slackStatus] = result;
      metrics.refreshFromState(snapshots);
      metrics.outboxSize(outbox);
      metrics.slackStatus(slackStatus, slackMetricTarget);
      // The label is the projectId the API returns once one poll succeeded, as on the other series.
      if (apiUp !== undefined) metrics.apiUp(snapshots[0]?.projectId || amp.projectId, apiUp);
    },
    readiness: async () => {
      const redisOk = redis.status === 'ready' && (await pingWithin(redis, 1000));
      const upstreamReport = redisOk ? await upstream.report() : { state: 'unknown (Redis unreachable)' };
      const reasons = [redisOk ? undefined : `Redis is not answering (connection ${redis.status})`, scheduleRegistered ? undefined : 'the poll schedule is not registered'];
      const reason = reasons.filter((r) => r !== undefined).join('; ');
      return {
        ready: reason === '',
        ...(reason === '' ? {} : { reason }),
        redis: redisOk ? 'ok' : 'unreachable',
        schedule: scheduleRegistered ? 'registered' : 'missing',
        upstream: upstreamReport,
        slack: notifier.target === 'log' ? 'SLACK_WEBHOOK_URL unset: alerts are logged' : redisOk ? await slackReport(store) : 'unknown (Redis unreachable)',
      };
    },
  }).catch(listenFailed);

  try {
    await ensureSchedule(true);
  } catch (error) {
    await http.close();
    throw error;
  }
  const keeper = setInterval(
    () => {
      ensureSchedule(false).catch((error: unknown) => {
        scheduleRegistered = false;
        logger.warn({ err: toError(error) }, 'could not check the job schedule');
      });
    },
    Math.min(config.pollIntervalMs, 15_000),
  );
  keeper.unref();

  void pollWorker.run();
  void alertsWorker.run();
  logger.info(
    {
      port: http.port,
      project: amp.projectId,
      integrations: amp.integrationIds.length === 0 ? 'discover' : amp.integrationIds,
      pollIntervalMs: config.pollIntervalMs,
      slack: notifier.target,
      prefix,
    },
    'ampersand-health-monitor started',
  );

  let closing: Promise<void> | undefined;
  return {
    httpPort: http.port,
    registry,
    close() {
      closing ??= (async () => {
        clearInterval(keeper);
        // HTTP first: it needs nothing else, and a client that holds a connection open
        // (a half-sent request, a pipelined backlog) is cut off within its short grace,
        // while the jobs finish, rather than at the end of the deadline.
        const httpClosed = http.close();
        // Finish the running jobs if they end soon; otherwise release them (their
        // lock lapses and another replica retakes them: commits are versioned). The
        // grace outlasts the default Slack timeout (5 s), so a send in flight ends
        // with its pop rather than being cut off between Slack's OK and the pop.
        // Without Redis no job can finish (its commit needs Redis), so there is nothing to wait for.
        const grace = redis.status === 'ready' ? SHUTDOWN_GRACE_MS : 0;
        const graceful = Promise.all([pollWorker.close(), alertsWorker.close()]);
        const finished = await Promise.race([graceful.then(() => true), delay(grace).then(() => false)]);
        // Every step after the grace shares one budget, so their waits cannot add up past the deadline.
        const deadline = Date.now() + AFTER_GRACE_BUDGET_MS;
        const budgetLeft = (): Promise<void> => delay(Math.max(0, deadline - Date.now()));
        if (!finished) {
          logger.warn(`jobs still running after ${grace} ms; releasing them`);
          await Promise.race([Promise.all([pollWorker.close(true), alertsWorker.close(true)]), budgetLeft()]);
        }
        await Promise.race([Promise.all([pollQueue.close(), alertsQueue.close()]), budgetLeft()]);
        await Promise.race([httpClosed, budgetLeft()]);
        // QUIT waits for a reply that never comes while Redis is down.
        const quit = await Promise.race([redis.quit().then(() => true, () => false), budgetLeft().then(() => false)]);
        if (!quit) redis.disconnect();
      })();
      return closing;
    },
  };
}

/**
 * The webhook's state for the /readyz body. A broken webhook does not make the
 * replica unready (restarting it fixes nothing), as for a rejected Ampersand key.
 */
async function slackReport(store: ReturnType<typeof createRedisStateStore>): Promise<Record<string, unknown>> {
  const s = await store.slackStatus();
  const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    state: s.up === undefined ? 'unknown' : s.up ? 'ok' : 'configuration_error',
    ...(s.up === false ? { reason: `${s.reason ?? 'unknown'}; delivery is paused, alerts are kept in order`, downSince: iso(s.downSinceMs) } : {}),
    ...(s.lastSuccessMs === undefined ? {} : { lastSuccess: iso(s.lastSuccessMs) }),
    deadLetters: s.deadLetters,
  };
}

/** BullMQ's limiter counts jobs per window; one job sends one message. Exact for every rate parseConfig accepts. */
function slackLimiter(perSecond: number): { max: number; duration: number } {
  return perSecond >= 1 ? { max: Math.round(perSecond), duration: 1000 } : { max: 1, duration: Math.round(1000 / perSecond) };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

async function pingWithin(redis: Redis, ms: number): Promise<boolean> {
  return Promise.race([redis.ping().then(() => true, () => false), delay(ms).then(() => false)]);
}

/** BullMQ loses jobs if Redis evicts keys; say so at start rather than at the first lost alert. */
async function warnAboutEvictionPolicy(redis: Redis, logger: Logger): Promise<void> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== undefined && policy !== 'noeviction') {
      logger.warn({ policy }, `Redis maxmemory-policy is "${policy}"; BullMQ and the snapshots need "noeviction", or queued alerts and state may be evicted`);
    }
  } catch {
    // Managed Redis often forbids CONFIG; nothing to check then.
  }
}

/** One scrubbed `fatal:` line on stderr and exit 1, for whatever nobody caught. */
const fatal = createFatalHandler({ write: (line) => process.stderr.write(line), exit: (code) => process.exit(code), env: process.env });

async function main(): Promise<void> {
  // Node would print an uncaught error itself, with its message (and any secret in it) unscrubbed.
  installFatalHandlers(process, fatal);
  // A .env in the working directory, as documented. Node's own reader: the environment wins over
  // the file, as with dotenv, without a dependency.
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
    monitor.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // One line, and no secret whatever threw: a library's message may quote the API key or the webhook.
  main().catch((error: unknown) => fatal(error));
}
