/**
 * Configuration is read from the environment in exactly one place. `parseConfig`
 * is pure: it takes the env record and returns a Config or throws a ConfigError
 * that lists every bad variable, one line each, naming what it accepts.
 */

import { isIP } from 'node:net';

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export const PINO_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof PINO_LEVELS)[number];

export interface Config {
  readonly ampersand: {
    readonly apiKey: string;
    /** Base URL including /v1, without a trailing slash. */
    readonly apiUrl: string;
    readonly projectId: string;
    /** Empty means: discover every integration of the project each cycle. */
    readonly integrationIds: readonly string[];
    readonly groupRef: string | undefined;
    readonly timeoutMs: number;
    /** Largest response body accepted, in bytes; a larger one is a failed poll. */
    readonly maxBodyBytes: number;
  };
  readonly pollIntervalMs: number;
  /**
   * BullMQ job lock: how long a killed process's job stays locked before another
   * takes it over (also the stalled-job check interval).
   */
  readonly jobLockMs: number;
  /** An integration missing from the list (config or discovery) and not polled for this long is forgotten. */
  readonly forgetAfterMs: number;
  readonly pollConcurrency: number;
  readonly redisUrl: string;
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
  };
  /** Consecutive failed cycles before one "upstream degraded" alert is posted. */
  readonly upstreamDegradedAfterCycles: number;
  readonly metricsPort: number;
  /** Address the HTTP server binds: an IP literal or a hostname. */
  readonly metricsHost: string;
  readonly logLevel: LogLevel;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Parses and checks every variable; collects all problems before throwing. */
export function parseConfig(env: Env): Config {
  const problems: string[] = [];
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
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };

  const decimal = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };

  // `secret` keeps the value out of the message: webhook URLs carry their token in the path.
  const url = (name: string, fallback: string | undefined, protocols: readonly string[], secret = false): string | undefined => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    let parsed: URL | undefined;
    try {
      parsed = new URL(raw);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || !protocols.includes(parsed.protocol)) {
      const shown = secret ? '(value hidden)' : `got "${raw}"`;
      problems.push(`${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}, ${shown}`);
      return fallback;
    }
    return raw;
  };

  const apiKey = required('AMPERSAND_API_KEY', 'the Ampersand API key, sent as X-Api-Key');
  const apiUrl = (url('AMPERSAND_API_URL', 'https://api.withampersand.com/v1', ['https:', 'http:']) ?? '').replace(/\/+$/, '');
  const projectId = required('AMPERSAND_PROJECT_ID', 'the Ampersand project id or name');

  const integrationIds = [
    ...new Set(
      (read('AMPERSAND_INTEGRATION_IDS') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];

  // Decimal seconds, so that tests and demos can poll faster than once a second.
  const pollIntervalSeconds = decimal('POLL_INTERVAL_SECONDS', 60, 0.1, 86_400);
  const jobLockSeconds = decimal('MONITOR_JOB_LOCK_SECONDS', 30, 0.5, 600);
  const forgetAfterSeconds = decimal('MONITOR_FORGET_AFTER_SECONDS', 600, 0, 30 * 86_400);
  const pollConcurrency = integer('POLL_CONCURRENCY', 4, 1, 64);
  // A Redis URL may carry a password, so its value is not repeated either.
  const redisUrl = url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:'], true) ?? '';

  const queuePrefix = read('QUEUE_PREFIX') ?? 'ahm';
  if (!/^[A-Za-z0-9_.{}-]{1,64}$/.test(queuePrefix)) {
    problems.push(`QUEUE_PREFIX must be 1 to 64 characters of letters, digits, "_", ".", "-", "{" or "}", got "${queuePrefix}"`);
  }

  const webhookUrl = url('SLACK_WEBHOOK_URL', undefined, ['https:', 'http:'], true);
  const slackTimeoutSeconds = integer('SLACK_TIMEOUT_SECONDS', 5, 1, 300);
  const slackRetryHorizonHours = decimal('SLACK_RETRY_HORIZON_HOURS', 24, 0.001, 24 * 14);
  const slackMessagesPerSecond = decimal('SLACK_MESSAGES_PER_SECOND', 1, 0.01, 100);
  const slackDeadLetterMax = integer('SLACK_DEAD_LETTER_MAX', 10_000, 1, 10_000_000);
  const upstreamDegradedAfterCycles = integer('UPSTREAM_DEGRADED_AFTER_CYCLES', 3, 1, 1000);
  const metricsPort = integer('METRICS_PORT', 9464, 0, 65_535);
  // 0.0.0.0 by default: in a container the port is published from outside the loopback.
  const metricsHost = read('METRICS_HOST') ?? '0.0.0.0';
  if (isIP(metricsHost) === 0 && !HOSTNAME.test(metricsHost)) {
    problems.push(`METRICS_HOST must be an IP address (0.0.0.0, 127.0.0.1, ::) or a hostname, got "${metricsHost}"`);
  }
  const timeoutSeconds = integer('AMPERSAND_TIMEOUT_SECONDS', 30, 1, 600);
  const maxBodyMegabytes = integer('AMPERSAND_MAX_BODY_MB', 50, 1, 1024);

  const rawLevel = read('LOG_LEVEL') ?? 'info';
  const logLevel = (PINO_LEVELS as readonly string[]).includes(rawLevel) ? (rawLevel as LogLevel) : 'info';
  if (logLevel !== rawLevel) problems.push(`LOG_LEVEL must be one of ${PINO_LEVELS.join(', ')}, got "${rawLevel}"`);

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ampersand: {
      apiKey,
      apiUrl,
      projectId,
      integrationIds,
      groupRef: read('AMPERSAND_GROUP_REF'),
      timeoutMs: timeoutSeconds * 1000,
      maxBodyBytes: maxBodyMegabytes * 1024 * 1024,
    },
    pollIntervalMs: Math.round(pollIntervalSeconds * 1000),
    jobLockMs: Math.round(jobLockSeconds * 1000),
    forgetAfterMs: Math.round(forgetAfterSeconds * 1000),
    pollConcurrency,
    redisUrl,
    queuePrefix,
    slack: {
      webhookUrl,
      timeoutMs: slackTimeoutSeconds * 1000,
      retryHorizonMs: Math.round(slackRetryHorizonHours * 3_600_000),
      messagesPerSecond: slackMessagesPerSecond,
      deadLetterMax: slackDeadLetterMax,
    },
    upstreamDegradedAfterCycles,
    metricsPort,
    metricsHost,
    logLevel,
  };
}
