import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type Env } from '../src/config.js';

const minimal: Env = { AMPERSAND_API_KEY: 'k', AMPERSAND_PROJECT_ID: 'p' };

function problems(env: Env): readonly string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig(minimal);
    expect(config).toMatchObject({
      ampersand: { apiUrl: 'https://api.withampersand.com/v1', integrationIds: [], groupRef: undefined, timeoutMs: 30_000 },
      pollIntervalMs: 60_000,
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'ahm',
      slack: { webhookUrl: undefined, retryHorizonMs: 24 * 3_600_000 },
      metricsPort: 9464,
      logLevel: 'info',
    });
  });

  it('accepts a fractional poll interval', () => {
    expect(parseConfig({ ...minimal, POLL_INTERVAL_SECONDS: '0.25' }).pollIntervalMs).toBe(250);
  });

  it('reads lists and trims values', () => {
    const config = parseConfig({ ...minimal, AMPERSAND_INTEGRATION_IDS: ' a, b ,,a ', AMPERSAND_API_URL: 'https://api.eu.withampersand.com/v1/', AMPERSAND_GROUP_REF: 'org-1' });
    expect(config.ampersand.integrationIds).toEqual(['a', 'b']);
    expect(config.ampersand.apiUrl).toBe('https://api.eu.withampersand.com/v1');
    expect(config.ampersand.groupRef).toBe('org-1');
  });

  it.each<[string, Env, string]>([
    ['AMPERSAND_API_KEY', { AMPERSAND_PROJECT_ID: 'p' }, 'AMPERSAND_API_KEY is required'],
    ['AMPERSAND_PROJECT_ID', { AMPERSAND_API_KEY: 'k' }, 'AMPERSAND_PROJECT_ID is required'],
    ['AMPERSAND_API_URL', { ...minimal, AMPERSAND_API_URL: 'ftp://x' }, 'AMPERSAND_API_URL must be a URL starting with https:// or http://, got "ftp://x"'],
    ['POLL_INTERVAL_SECONDS', { ...minimal, POLL_INTERVAL_SECONDS: '0' }, 'POLL_INTERVAL_SECONDS must be a number from 0.1 to 86400, got "0"'],
    ['POLL_INTERVAL_SECONDS', { ...minimal, POLL_INTERVAL_SECONDS: '1,5' }, 'POLL_INTERVAL_SECONDS must be a number'],
    ['MONITOR_JOB_LOCK_SECONDS', { ...minimal, MONITOR_JOB_LOCK_SECONDS: '0.1' }, 'MONITOR_JOB_LOCK_SECONDS must be a number from 0.5 to 600'],
    ['REDIS_URL', { ...minimal, REDIS_URL: 'http://localhost' }, 'REDIS_URL must be a URL starting with redis:// or rediss://'],
    ['QUEUE_PREFIX', { ...minimal, QUEUE_PREFIX: 'a:b' }, 'QUEUE_PREFIX must be'],
    ['METRICS_PORT', { ...minimal, METRICS_PORT: '70000' }, 'METRICS_PORT must be a whole number from 0 to 65535'],
    ['AMPERSAND_TIMEOUT_SECONDS', { ...minimal, AMPERSAND_TIMEOUT_SECONDS: 'soon' }, 'AMPERSAND_TIMEOUT_SECONDS must be a whole number'],
    ['LOG_LEVEL', { ...minimal, LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    ['SLACK_WEBHOOK_URL', { ...minimal, SLACK_WEBHOOK_URL: 'hooks.slack.com/services/SECRET' }, 'SLACK_WEBHOOK_URL must be a URL'],
  ])('names %s when it is wrong', (_name, env, expected) => {
    const list = problems(env);
    expect(list).toHaveLength(1);
    expect(list[0]).toContain(expected);
  });

  it('reports every bad variable at once, one line each', () => {
    const list = problems({ POLL_INTERVAL_SECONDS: 'x', METRICS_PORT: '-1' });
    expect(list.map((l) => l.split(' ')[0])).toEqual(['AMPERSAND_API_KEY', 'AMPERSAND_PROJECT_ID', 'POLL_INTERVAL_SECONDS', 'METRICS_PORT']);
  });

  it('never repeats a Redis URL, which may hold a password', () => {
    expect(problems({ ...minimal, REDIS_URL: 'http://user:hunter2@redis:6379' }).join('\n')).not.toContain('hunter2');
  });

  it('never repeats the webhook URL, which is a secret', () => {
    const list = problems({ ...minimal, SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T1/B1/SECRET' });
    expect(list.join('\n')).not.toContain('SECRET');
  });
});

describe('parseConfig: METRICS_HOST', () => {
  it('binds every interface by default, as containers need', () => {
    expect(parseConfig(minimal).metricsHost).toBe('0.0.0.0');
  });

  it.each(['127.0.0.1', '::1', '::', 'localhost', 'monitor.internal'])('accepts %s', (host) => {
    expect(parseConfig({ ...minimal, METRICS_HOST: host }).metricsHost).toBe(host);
  });

  it.each(['0.0.0.0:9464', 'http://localhost', 'a b', '-leading.dash', '[::1]'])('names itself when given %s', (host) => {
    expect(problems({ ...minimal, METRICS_HOST: host })).toEqual([`METRICS_HOST must be an IP address (0.0.0.0, 127.0.0.1, ::) or a hostname, got "${host}"`]);
  });
});
