/**
 * Configuration is read from the environment in exactly one place. `parseConfig`
 * is pure: it takes the env record and returns a Config or throws a ConfigError
 * that lists every bad variable, one line each, naming what it accepts.
 * `parseConfigWithWarnings` also returns what is suspicious but not fatal (an
 * unknown variable in one of our families), for main to log once a logger exists.
 */

import { isIP } from 'node:net';
import { DEFAULT_MASS_EVENT_POLICY, type MassEventPolicy } from './core/alert-notification.js';
import type { AlertPolicy } from './core/alert-state.js';
import { checkEndpointUrl, checkSlackWebhookUrl } from './core/endpoint-url.js';
import type { MonitorConfig, ProjectConfig } from './core/monitor-config.js';
import { hashTagOf, isClusterUrl, nodeUrl, parseClusterNodes, parseClusterUrl, type RedisClusterTarget } from './core/redis-cluster-target.js';
import { parseSentinelTarget, type RedisSentinelTarget } from './core/redis-sentinel-target.js';
import { installationSeriesModes, type InstallationSeriesMode } from './core/installation-series.js';

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export const PINO_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof PINO_LEVELS)[number];

export interface Config {
  readonly ampersand: {
    readonly apiKey: string;
    /** Base URL including /v1, without a trailing slash. */
    readonly apiUrl: string;
    /**
     * AMPERSAND_PROJECT_ID as set; undefined only when MONITOR_CONFIG is set, whose `projects` then
     * name the projects (loadConfig refuses a configuration with neither). The service watches `projects`.
     */
    readonly projectId: string | undefined;
    /** Empty means: discover every integration of the project each cycle. */
    readonly integrationIds: readonly string[];
    readonly groupRef: string | undefined;
    readonly timeoutMs: number;
    /** Largest response body accepted, in bytes; a larger one is a failed poll. */
    readonly maxBodyBytes: number;
  };
  /**
   * The projects the service watches, at least one: the monitor configuration file's `projects` when it
   * has them (loadConfig puts them here), else the one of AMPERSAND_PROJECT_ID, AMPERSAND_INTEGRATION_IDS
   * and AMPERSAND_GROUP_REF. Empty only in a Config that parseConfig read with MONITOR_CONFIG set and no
   * AMPERSAND_PROJECT_ID, before loadConfig read the file.
   */
  readonly projects: readonly ProjectConfig[];
  /**
   * AMPERSAND_LIST_MODE: `integration` reads each integration's installations with its own call;
   * `project` reads every installation of a project with one call per cycle and splits it by integration.
   */
  readonly listMode: ListMode;
  readonly pollIntervalMs: number;
  /**
   * BullMQ job lock: how long a killed process's job stays locked before another
   * takes it over (also the stalled-job check interval).
   */
  readonly jobLockMs: number;
  /** An integration missing from the list (config or discovery) and not polled for this long is forgotten. */
  readonly forgetAfterMs: number;
  readonly pollConcurrency: number;
  /**
   * The standalone Redis (REDIS_URL). On a cluster: the URL of its first seed node with the
   * cluster's credentials, which only the start-up probe uses; `redisCluster` says where it is.
   */
  readonly redisUrl: string;
  /** REDIS_CLUSTER_NODES, or a redis+cluster:// REDIS_URL: the service runs on Redis Cluster; undefined for a standalone Redis. */
  readonly redisCluster: RedisClusterTarget | undefined;
  /** REDIS_SENTINELS and REDIS_SENTINEL_NAME: the master is found through Sentinel; REDIS_URL gives its credentials, TLS and database. */
  readonly redisSentinel: RedisSentinelTarget | undefined;
  /** QUEUE_PREFIX: default `ahm`, or `{ahm}` on a cluster, where it must hold a hash tag. */
  readonly queuePrefix: string;
  readonly slack: {
    readonly webhookUrl: string | undefined;
    readonly timeoutMs: number;
    /** How long a message is retried on 5xx/network errors before it fails for good. */
    readonly retryHorizonMs: number;
    /** Pace of messages to the webhook, across all replicas (Slack allows about 1 per second). */
    readonly messagesPerSecond: number;
    /** Most dead letters kept in Redis; the oldest are trimmed first. */
    readonly deadLetterMax: number;
    /** Most messages waiting in the outbox before the oldest low-priority ones are dropped, with a notice. */
    readonly outboxMax: number;
    /** SLACK_OUTBOX_COALESCE: merge an integration's waiting digests into one message (default true). */
    readonly outboxCoalesce: boolean;
  };
  /** Consecutive failed cycles before one "upstream degraded" alert is posted. */
  readonly upstreamDegradedAfterCycles: number;
  /** When one poll's flips are one "mass event" message (MASS_EVENT_MIN_COUNT, MASS_EVENT_FRACTION). */
  readonly massEvent: MassEventPolicy;
  readonly metricsPort: number;
  /** METRICS_INSTALLATION_SERIES: which installations get per-installation series on /metrics (default all). */
  readonly metricsInstallationSeries: InstallationSeriesMode;
  /** Address the HTTP server binds: an IP literal or a hostname. */
  readonly metricsHost: string;
  readonly logLevel: LogLevel;
  /** The Grafana dashboard the status page links to (http or https, no user:password@), if any. */
  readonly dashboardUrl: string | undefined;
  readonly alerts: {
    /** ALERT_AFTER_POLLS, RESOLVE_AFTER_POLLS, REMIND_INTERVAL_SECONDS (0 = no reminders). */
    readonly policy: AlertPolicy;
    /** Look-ups of a failing operation's error per poll cycle (FAILURE_DETAILS_PER_CYCLE); 0 turns them off. */
    readonly failureDetailsPerCycle: number;
    /** Base of the Ampersand links in messages (AMPERSAND_DASHBOARD_URL). */
    readonly ampersandDashboardUrl: string;
    /** Linked from firing messages (RUNBOOK_URL), if set. */
    readonly runbookUrl: string | undefined;
  };
  /** MONITOR_CONFIG: the path of the monitor configuration file, read and checked by loadConfig (src/load-config.ts). */
  readonly monitorConfigPath: string | undefined;
  /** SLACK_WEBHOOK_ALLOW_ANY_HOST: a webhook (SLACK_WEBHOOK_URL or a route's) may be on any https host. */
  readonly allowAnyWebhookHost: boolean;
  /** The checked monitor configuration file; undefined without MONITOR_CONFIG (parseConfig never reads the file). */
  readonly monitor: MonitorConfig | undefined;
}

export const LIST_MODES = ['integration', 'project'] as const;
export type ListMode = (typeof LIST_MODES)[number];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Every variable the service reads; a test keeps it equal to the ones .env.example
 * documents. An unknown name with one of our prefixes is most likely a typo of one
 * of these, so it gets a warning.
 */
export const KNOWN_VARIABLES: readonly string[] = [
  'AMPERSAND_API_KEY',
  'AMPERSAND_PROJECT_ID',
  'AMPERSAND_API_URL',
  'AMPERSAND_INTEGRATION_IDS',
  'AMPERSAND_GROUP_REF',
  'AMPERSAND_LIST_MODE',
  'AMPERSAND_TIMEOUT_SECONDS',
  'AMPERSAND_MAX_BODY_MB',
  'POLL_INTERVAL_SECONDS',
  'POLL_CONCURRENCY',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'QUEUE_PREFIX',
  'SLACK_WEBHOOK_URL',
  'SLACK_WEBHOOK_ALLOW_ANY_HOST',
  'SLACK_TIMEOUT_SECONDS',
  'SLACK_RETRY_HORIZON_HOURS',
  'SLACK_MESSAGES_PER_SECOND',
  'SLACK_DEAD_LETTER_MAX',
  'SLACK_OUTBOX_MAX',
  'SLACK_OUTBOX_COALESCE',
  'UPSTREAM_DEGRADED_AFTER_CYCLES',
  'MASS_EVENT_MIN_COUNT',
  'MASS_EVENT_FRACTION',
  'MONITOR_JOB_LOCK_SECONDS',
  'MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS',
  'MONITOR_FORGET_AFTER_SECONDS',
  'METRICS_PORT',
  'METRICS_HOST',
  'METRICS_INSTALLATION_SERIES',
  'LOG_LEVEL',
  'DASHBOARD_URL',
  'ALERT_AFTER_POLLS',
  'RESOLVE_AFTER_POLLS',
  'REMIND_INTERVAL_SECONDS',
  'FAILURE_DETAILS_PER_CYCLE',
  'AMPERSAND_DASHBOARD_URL',
  'RUNBOOK_URL',
  'MONITOR_CONFIG',
];

/**
 * The prefixes of our variables; other names (PATH, NODE_OPTIONS …) are none of our business.
 * DASHBOARD_URL is ours but DASHBOARD_ is no family: the prefix is generic (other tools' variables,
 * and the links Kubernetes injects for a Service named "dashboard": its service host and port variables) and
 * would warn at every start, while a mistyped DASHBOARD_URL shows at once as a page without the link.
 */
const FAMILIES = ['AMPERSAND_', 'SLACK_', 'MONITOR_', 'METRICS_', 'POLL_', 'UPSTREAM_'] as const;

/**
 * The longest a Slack send may take (SLACK_TIMEOUT_SECONDS): shutdown waits 7.5 s for
 * the jobs in flight, so a send that fits in it ends with its outbox pop, and the
 * process still exits within 10 s.
 */
const MAX_SLACK_TIMEOUT_SECONDS = 7;

/** Default of SLACK_OUTBOX_MAX: about 17 minutes of Slack at one message a second. */
const DEFAULT_SLACK_OUTBOX_MAX = 1000;

/** Below this a job lock can lapse while its job still runs (a long GC or body parse), and the job runs twice. */
const MIN_JOB_LOCK_SECONDS = 5;

/** Parses and checks every variable; collects all problems before throwing. */
export function parseConfig(env: Env): Config {
  return parseConfigWithWarnings(env).config;
}

/**
 * As parseConfigWithWarnings, with a bad environment returned as its
 * ConfigError rather than thrown, so the entry point can exit 2 on it and on
 * nothing else.
 */
export function readConfig(env: Env): { config: Config; warnings: string[] } | ConfigError {
  try {
    return parseConfigWithWarnings(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

/**
 * As parseConfig, and also returns warnings (one line each, never a value) about
 * what is allowed but likely wrong.
 */
export function parseConfigWithWarnings(env: Env): { config: Config; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const required = (name: string, accepts: string): string => {
    const value = read(name);
    if (value === undefined) problems.push(`${name} is required: ${accepts}`);
    return value ?? '';
  };

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got ${quote(raw)}`);
      return fallback;
    }
    return Number(raw);
  };

  const decimal = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a number from ${min} to ${max}, got ${quote(raw)}`);
      return fallback;
    }
    return Number(raw);
  };

  /**
   * An HTTP endpoint we send a secret to (core/endpoint-url.ts): https, or plain
   * http on loopback only; no userinfo, query or fragment. The value itself is
   * never echoed; at most its scheme, host and path.
   */
  const endpoint = (name: string, raw: string, accepts: string, showPath: boolean): URL | undefined => {
    const checked = checkEndpointUrl(raw, accepts, showPath);
    if (checked.ok) return checked.url;
    problems.push(`${name} ${checked.problem}`);
    return undefined;
  };

  const apiKey = required('AMPERSAND_API_KEY', 'the Ampersand API key, sent as X-Api-Key');
  // A key pasted with a line break or a space would make Headers.append throw, with the key in its message.
  if (apiKey !== '' && !/^[\x21-\x7e]+$/.test(apiKey)) {
    problems.push(
      'AMPERSAND_API_KEY must be printable ASCII with no spaces, line breaks or control characters (it is sent as the X-Api-Key header); value hidden',
    );
  }
  const rawApiUrl = read('AMPERSAND_API_URL');
  const apiUrl =
    rawApiUrl === undefined
      ? 'https://api.withampersand.com/v1'
      : (
          endpoint('AMPERSAND_API_URL', rawApiUrl, 'an https:// URL of the API including /v1, such as https://api.withampersand.com/v1', true)?.href ?? ''
        ).replace(/\/+$/, '');
  // With a monitor configuration file, its `projects` may name the projects instead (loadConfig checks that one of them does).
  const projectId =
    read('MONITOR_CONFIG') === undefined
      ? required('AMPERSAND_PROJECT_ID', 'the Ampersand project id or name (or the `projects` of a MONITOR_CONFIG file)')
      : read('AMPERSAND_PROJECT_ID');
  const listMode = (read('AMPERSAND_LIST_MODE') ?? 'integration') as ListMode;
  if (!LIST_MODES.includes(listMode)) {
    problems.push(
      `AMPERSAND_LIST_MODE must be integration (one call per integration) or project (one call per project, split by integration), got ${quote(listMode)}`,
    );
  }

  const rawIntegrationIds = read('AMPERSAND_INTEGRATION_IDS');
  const integrationIds = [
    ...new Set(
      (rawIntegrationIds ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
  // "Discover all" is spelt as an empty value; a list of only commas is a mistake, not that.
  if (rawIntegrationIds !== undefined && integrationIds.length === 0) {
    problems.push(
      `AMPERSAND_INTEGRATION_IDS must be comma-separated integration ids, or empty to discover every integration; got only separators (${quote(rawIntegrationIds)})`,
    );
  }

  // Decimal seconds, so that tests and demos can poll faster than once a second.
  const pollIntervalSeconds = decimal('POLL_INTERVAL_SECONDS', 60, 0.1, 86_400);
  // The fault tests kill workers every few seconds and need takeovers within a second;
  // no deployment should: the flag says so in its name, and is warned about.
  // Only where NODE_ENV=test (vitest sets it; the fault tests pass it to their children), so that
  // the flag cannot reach a deployment.
  const testsOnly = read('MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS');
  const inTests = read('NODE_ENV') === 'test';
  if (testsOnly !== undefined && !inTests)
    problems.push('MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS is for tests only and is refused unless NODE_ENV=test; remove it');
  else if (testsOnly !== undefined && testsOnly !== 'true' && testsOnly !== 'false')
    problems.push(`MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS must be true or false, got ${quote(testsOnly)}`);
  const shortLockForTests = inTests && testsOnly === 'true';
  const jobLockSeconds = decimal('MONITOR_JOB_LOCK_SECONDS', 30, shortLockForTests ? 0.5 : MIN_JOB_LOCK_SECONDS, 600);
  if (shortLockForTests)
    warnings.push('MONITOR_UNSAFE_SHORT_JOB_LOCK_FOR_TESTS is set: MONITOR_JOB_LOCK_SECONDS may be under 5, and a job may run twice; for tests only');
  // Forgetting sooner would drop the state of an integration that merely missed a poll or two;
  // the default follows a long poll interval.
  const minForgetSeconds = Math.round(pollIntervalSeconds * 3 * 1000) / 1000;
  const pollIntervalOk = !problems.some((p) => p.startsWith('POLL_INTERVAL_SECONDS'));
  const forgetAfterSeconds = decimal('MONITOR_FORGET_AFTER_SECONDS', Math.max(600, minForgetSeconds), 0, 30 * 86_400);
  if (pollIntervalOk && read('MONITOR_FORGET_AFTER_SECONDS') !== undefined && forgetAfterSeconds < minForgetSeconds) {
    problems.push(
      `MONITOR_FORGET_AFTER_SECONDS must be at least 3 poll intervals (3 × POLL_INTERVAL_SECONDS = ${minForgetSeconds}), got ${quote(read('MONITOR_FORGET_AFTER_SECONDS') ?? '')}`,
    );
  }
  const pollConcurrency = integer('POLL_CONCURRENCY', 4, 1, 64);
  const { redisUrl, redisCluster } = redisTarget(read('REDIS_URL'), read('REDIS_CLUSTER_NODES'), problems);
  const redisSentinel = sentinelTarget(read('REDIS_SENTINELS'), read('REDIS_SENTINEL_NAME'), redisCluster !== undefined, problems);

  // On a cluster every key of a BullMQ script, and of ours, must hash to one slot: BullMQ's keys are
  // `<prefix>:<queue>:…` and ours `<prefix>:state:…`, so a hash tag in the prefix puts each family in one slot.
  const queuePrefix = read('QUEUE_PREFIX') ?? (redisCluster === undefined ? 'ahm' : '{ahm}');
  if (!/^[A-Za-z0-9_.{}-]{1,64}$/.test(queuePrefix)) {
    problems.push(`QUEUE_PREFIX must be 1 to 64 characters of letters, digits, "_", ".", "-", "{" or "}", got ${quote(queuePrefix)}`);
  } else if (redisCluster !== undefined && hashTagOf(queuePrefix) === undefined) {
    problems.push(
      `QUEUE_PREFIX must contain a hash tag such as {ahm} on Redis Cluster (REDIS_CLUSTER_NODES or a redis+cluster:// REDIS_URL), so that every key of a script is in one slot; got ${quote(queuePrefix)}`,
    );
  }

  const rawWebhookUrl = read('SLACK_WEBHOOK_URL');
  const allowAnyHost = read('SLACK_WEBHOOK_ALLOW_ANY_HOST') ?? 'false';
  if (allowAnyHost !== 'true' && allowAnyHost !== 'false') problems.push(`SLACK_WEBHOOK_ALLOW_ANY_HOST must be true or false, got ${quote(allowAnyHost)}`);
  let webhookUrl: string | undefined;
  if (rawWebhookUrl !== undefined) {
    // The webhook URL is the secret (its path is the token): no message repeats any of it.
    const checked = checkSlackWebhookUrl(rawWebhookUrl, allowAnyHost === 'true');
    if (checked.ok) webhookUrl = rawWebhookUrl;
    else problems.push(`SLACK_WEBHOOK_URL ${checked.problem}`);
  }
  const slackTimeoutSeconds = integer('SLACK_TIMEOUT_SECONDS', 5, 1, MAX_SLACK_TIMEOUT_SECONDS);
  const slackRetryHorizonHours = decimal('SLACK_RETRY_HORIZON_HOURS', 24, 0.001, 24 * 14);
  const slackMessagesPerSecond = messageRate(read('SLACK_MESSAGES_PER_SECOND'), problems);
  const upstreamDegradedAfterCycles = integer('UPSTREAM_DEGRADED_AFTER_CYCLES', 3, 1, 1000);
  const slackDeadLetterMax = integer('SLACK_DEAD_LETTER_MAX', 10_000, 1, 10_000_000);
  // Below 10 a burst of ordinary alerts would drop some; the notice itself takes one place.
  const slackOutboxMax = integer('SLACK_OUTBOX_MAX', DEFAULT_SLACK_OUTBOX_MAX, 10, 1_000_000);
  const coalesce = read('SLACK_OUTBOX_COALESCE') ?? 'true';
  if (coalesce !== 'true' && coalesce !== 'false') problems.push(`SLACK_OUTBOX_COALESCE must be true or false, got ${quote(coalesce)}`);
  const massEvent: MassEventPolicy = {
    minCount: integer('MASS_EVENT_MIN_COUNT', DEFAULT_MASS_EVENT_POLICY.minCount, 1, 1_000_000),
    fraction: decimal('MASS_EVENT_FRACTION', DEFAULT_MASS_EVENT_POLICY.fraction, 0, 1),
  };
  const metricsPort = integer('METRICS_PORT', 9464, 1, 65_535);
  // 0.0.0.0 by default: in a container the port is published from outside the loopback.
  const metricsHost = read('METRICS_HOST') ?? '0.0.0.0';
  // A name whose last label is a number is read as IPv4 (by URL parsers and getaddrinfo), so
  // 999.999.999.999 is no host name: refused here (exit 2), not by listen() after start-up (exit 1).
  const numericName = /(^|\.)\d+$/.test(metricsHost);
  if (isIP(metricsHost) === 0 && (!HOSTNAME.test(metricsHost) || numericName)) {
    const why = numericName && HOSTNAME.test(metricsHost) ? ' (not an IPv4 address: four numbers from 0 to 255)' : '';
    problems.push(`METRICS_HOST must be an IP address (0.0.0.0, 127.0.0.1, ::) or a hostname, got ${quote(metricsHost)}${why}`);
  }
  const rawSeries = read('METRICS_INSTALLATION_SERIES') ?? 'all';
  const metricsInstallationSeries = (installationSeriesModes as readonly string[]).includes(rawSeries) ? (rawSeries as InstallationSeriesMode) : 'all';
  if (metricsInstallationSeries !== rawSeries) {
    problems.push(`METRICS_INSTALLATION_SERIES must be one of ${installationSeriesModes.join(', ')}, got ${quote(rawSeries)}`);
  }
  const timeoutSeconds = integer('AMPERSAND_TIMEOUT_SECONDS', 30, 1, 600);
  const maxBodyMegabytes = integer('AMPERSAND_MAX_BODY_MB', 512, 1, 8192);

  const dashboardUrl = publicLink('DASHBOARD_URL', read('DASHBOARD_URL'), grafanaLink, problems);

  const alertAfterPolls = integer('ALERT_AFTER_POLLS', 2, 1, 100);
  const resolveAfterPolls = integer('RESOLVE_AFTER_POLLS', 2, 1, 100);
  const remindIntervalSeconds = integer('REMIND_INTERVAL_SECONDS', 14_400, 0, 30 * 86_400);
  const failureDetailsPerCycle = integer('FAILURE_DETAILS_PER_CYCLE', 20, 0, 1000);
  const ampersandDashboardUrl = publicLink('AMPERSAND_DASHBOARD_URL', read('AMPERSAND_DASHBOARD_URL'), ampersandLink, problems) ?? defaultAmpersandDashboardUrl;
  const runbookUrl = publicLink('RUNBOOK_URL', read('RUNBOOK_URL'), runbookLink, problems);

  const rawLevel = read('LOG_LEVEL') ?? 'info';
  const logLevel = (PINO_LEVELS as readonly string[]).includes(rawLevel) ? (rawLevel as LogLevel) : 'info';
  if (logLevel !== rawLevel) problems.push(`LOG_LEVEL must be one of ${PINO_LEVELS.join(', ')}, got ${quote(rawLevel)}`);

  if (problems.length > 0) throw new ConfigError(problems);
  warnings.push(...unknownVariableWarnings(env));

  const groupRef = read('AMPERSAND_GROUP_REF');
  const config: Config = {
    ampersand: {
      apiKey,
      apiUrl,
      projectId,
      integrationIds,
      groupRef,
      timeoutMs: timeoutSeconds * 1000,
      maxBodyBytes: maxBodyMegabytes * 1024 * 1024,
    },
    projects: projectId === undefined ? [] : [{ id: projectId, integrationIds: integrationIds.length === 0 ? undefined : integrationIds, groupRef }],
    listMode,
    pollIntervalMs: Math.round(pollIntervalSeconds * 1000),
    jobLockMs: Math.round(jobLockSeconds * 1000),
    forgetAfterMs: Math.round(forgetAfterSeconds * 1000),
    pollConcurrency,
    redisUrl,
    redisCluster,
    redisSentinel,
    queuePrefix,
    slack: {
      webhookUrl,
      timeoutMs: slackTimeoutSeconds * 1000,
      retryHorizonMs: Math.round(slackRetryHorizonHours * 3_600_000),
      messagesPerSecond: slackMessagesPerSecond,
      deadLetterMax: slackDeadLetterMax,
      outboxMax: slackOutboxMax,
      outboxCoalesce: coalesce !== 'false',
    },
    upstreamDegradedAfterCycles,
    massEvent,
    metricsPort,
    metricsInstallationSeries,
    metricsHost,
    logLevel,
    dashboardUrl,
    alerts: {
      policy: { alertAfterPolls, resolveAfterPolls, remindIntervalMs: remindIntervalSeconds * 1000 },
      failureDetailsPerCycle,
      ampersandDashboardUrl,
      runbookUrl,
    },
    monitorConfigPath: read('MONITOR_CONFIG'),
    allowAnyWebhookHost: allowAnyHost === 'true',
    monitor: undefined,
  };
  return { config, warnings };
}

/** Longest part of a bad value repeated in a problem; the rest is "…". */
const MAX_SHOWN = 100;

/**
 * A value as a problem line shows it: in double quotes, on one line (line breaks and other
 * control characters escaped, as JSON does, and U+007F to U+009F, U+2028, U+2029 too), and cut short.
 */
function quote(value: string): string {
  const cut = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
  return JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Longer is no dashboard link, and every page load or message would carry it. */
const MAX_LINK_URL_LENGTH = 2048;

/** AMPERSAND_DASHBOARD_URL's default (the same as the renderer's, src/core/slack-message.ts). */
const defaultAmpersandDashboardUrl = 'https://dashboard.withampersand.com';

/** What a link variable is, for its problem lines: what it links to, an example, and who sees the link. */
interface LinkWords {
  readonly what: string;
  readonly example: string;
  readonly shownTo: string;
}
const grafanaLink: LinkWords = {
  what: 'the Grafana dashboard',
  example: 'https://grafana.example.com/d/ampersand-health',
  shownTo: 'the status page shows the link to everyone',
};
const ampersandLink: LinkWords = {
  what: 'the Ampersand dashboard',
  example: defaultAmpersandDashboardUrl,
  shownTo: 'Slack messages show the link to the channel',
};
const runbookLink: LinkWords = {
  what: 'the runbook',
  example: 'https://wiki.example.com/runbooks/ampersand',
  shownTo: 'Slack messages show the link to the channel',
};

/**
 * A link shown to people: DASHBOARD_URL on the status page, AMPERSAND_DASHBOARD_URL
 * and RUNBOOK_URL in the Slack messages. An http:// or https:// URL (any host:
 * Grafana or a wiki often lives inside the network), never javascript: or
 * data:, and no user:password@, which would be shown (that value is not
 * repeated). A query and a fragment are fine (Grafana puts its variables
 * there). Returned as parsed, so what is linked is what was checked.
 */
function publicLink(name: string, raw: string | undefined, words: LinkWords, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    problems.push(`${name} must be an http:// or https:// URL of ${words.what}, such as ${words.example}, got ${quote(raw)}`);
    return undefined;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    problems.push(`${name} must not carry a user name or password (user:password@host): ${words.shownTo} (value hidden)`);
    return undefined;
  }
  if (parsed.href.length > MAX_LINK_URL_LENGTH) {
    problems.push(`${name} must be at most ${MAX_LINK_URL_LENGTH} characters, got ${parsed.href.length}`);
    return undefined;
  }
  return parsed.href;
}

/**
 * SLACK_MESSAGES_PER_SECOND, as BullMQ's limiter ({ max, duration }) can honour it
 * exactly: a whole number of messages per second, or one message every whole number
 * of milliseconds (0.5 is one per 2000 ms). Rounding 1.5 to 2 would exceed Slack's 1/s.
 */
function messageRate(raw: string | undefined, problems: string[]): number {
  if (raw === undefined) return 1;
  const rate = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  const intervalMs = 1000 / rate;
  const exact = rate >= 1 ? Number.isInteger(rate) && rate <= 100 : rate >= 0.01 && Math.abs(intervalMs - Math.round(intervalMs)) < 1e-6;
  if (!exact) {
    problems.push(
      `SLACK_MESSAGES_PER_SECOND must be a whole number from 1 to 100, or a rate from 0.01 to 1 whose interval (1000 / rate ms) is a whole number of milliseconds, such as 0.5 or 0.25; got ${quote(raw)}`,
    );
    return 1;
  }
  return rate;
}

/** One warning per unknown variable of our families, naming the known one it most resembles. */
function unknownVariableWarnings(env: Env): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!FAMILIES.some((f) => name.startsWith(f)) || KNOWN_VARIABLES.includes(name)) continue;
    let closest = KNOWN_VARIABLES[0] ?? '';
    let best = Number.POSITIVE_INFINITY;
    for (const known of KNOWN_VARIABLES) {
      const d = levenshtein(name, known);
      if (d < best) [closest, best] = [known, d];
    }
    warnings.push(`${name} is not a variable this service reads (ignored); did you mean ${closest}?`);
  }
  return warnings;
}

/** Edit distance (insertions, deletions, substitutions), two rows at a time. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * REDIS_URL and REDIS_CLUSTER_NODES as one target. A redis+cluster:// REDIS_URL names a cluster by
 * itself. With REDIS_CLUSTER_NODES, REDIS_URL, if set, is one more seed node and gives every node
 * its user, password and TLS (rediss:). Neither value is repeated when REDIS_URL is involved: it may
 * carry a password.
 */
function redisTarget(
  rawUrl: string | undefined,
  rawNodes: string | undefined,
  problems: string[],
): { redisUrl: string; redisCluster: RedisClusterTarget | undefined } {
  const fallback = { redisUrl: '', redisCluster: undefined };
  if (rawUrl !== undefined && isClusterUrl(rawUrl)) {
    if (rawNodes !== undefined) {
      problems.push('REDIS_CLUSTER_NODES must not be set with a redis+cluster:// REDIS_URL, which names the nodes already; set one of the two');
      return fallback;
    }
    const parsed = parseClusterUrl(rawUrl);
    if (!parsed.ok) {
      problems.push(`REDIS_URL ${parsed.problem}`);
      return fallback;
    }
    return clusterTarget(parsed.value);
  }
  const url = rawUrl ?? 'redis://127.0.0.1:6379';
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !['redis:', 'rediss:'].includes(parsed.protocol)) {
    problems.push('REDIS_URL must be a URL starting with redis:// or rediss://, or redis+cluster:// for a Redis Cluster (value hidden)');
    return fallback;
  }
  // The path selects the database; ioredis ignores one it cannot read, and Redis one out of its range,
  // and the service would run on database 0, shared with whoever else was told to use it.
  if (!/^\/?(\d+)?$/.test(parsed.pathname)) {
    problems.push('REDIS_URL must have no path, / or /<database number> such as /0 (value hidden)');
    return fallback;
  }
  if (rawNodes === undefined) return { redisUrl: url, redisCluster: undefined };
  const nodes = parseClusterNodes(rawNodes);
  if (!nodes.ok) {
    problems.push(`REDIS_CLUSTER_NODES ${nodes.problem}`);
    return fallback;
  }
  if (rawUrl === undefined) return clusterTarget({ nodes: nodes.value, username: undefined, password: undefined, tls: false });
  if (!/^\/?0?$/.test(parsed.pathname)) {
    problems.push('REDIS_URL must have no database but 0 with REDIS_CLUSTER_NODES: a cluster has only database 0 (value hidden)');
    return fallback;
  }
  const seed = { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || 6379) };
  const decode = (text: string): string | undefined => (text === '' ? undefined : decodeURIComponent(text));
  const others = nodes.value.filter((n) => n.host !== seed.host || n.port !== seed.port);
  return clusterTarget({
    nodes: [seed, ...others],
    username: decode(parsed.username),
    password: decode(parsed.password),
    tls: parsed.protocol === 'rediss:',
  });
}

function clusterTarget(target: RedisClusterTarget): { redisUrl: string; redisCluster: RedisClusterTarget } {
  const [first] = target.nodes;
  return { redisUrl: first === undefined ? '' : nodeUrl(target, first), redisCluster: target };
}

/**
 * REDIS_SENTINELS and REDIS_SENTINEL_NAME: Sentinel finds the master. Not with a cluster (a cluster
 * fails over by itself, and a client is either kind). REDIS_URL still gives the data nodes' user,
 * password, TLS and database; its host is not used.
 */
function sentinelTarget(
  rawSentinels: string | undefined,
  rawName: string | undefined,
  onCluster: boolean,
  problems: string[],
): RedisSentinelTarget | undefined {
  if (rawSentinels === undefined) {
    if (rawName !== undefined) problems.push('REDIS_SENTINEL_NAME is set without REDIS_SENTINELS: name the sentinels too, or unset it');
    return undefined;
  }
  if (onCluster) {
    problems.push(
      'REDIS_SENTINELS must not be set with a Redis Cluster (REDIS_CLUSTER_NODES or a redis+cluster:// REDIS_URL): a cluster fails over by itself; set one of the two',
    );
    return undefined;
  }
  const parsed = parseSentinelTarget(rawSentinels, rawName);
  if (!parsed.ok) {
    problems.push(parsed.problem);
    return undefined;
  }
  return parsed.value;
}
