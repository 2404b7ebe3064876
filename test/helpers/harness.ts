/**
 * Runs the real service (startMonitor) against the fake Ampersand, the fake
 * Slack and the local Redis, with a unique key prefix per test.
 */
import type { Redis } from 'ioredis';
import { ConfigError, parseConfig, type Env } from '../../src/config.js';
import { loadConfig } from '../../src/load-config.js';
import { startFakeAmpersand, type FakeAmpersand } from '../../src/simulator/fake-ampersand-server.js';
import { startFakeSlack, type FakeSlack } from '../../src/simulator/fake-slack-server.js';
import { startMonitor, type Monitor, type MonitorOverrides } from '../../src/main.js';
import { captureLogs, type CapturedLogs } from './logger.js';
import { REDIS_URL, connect, deletePrefix, uniquePrefix } from './redis.js';

export const API_KEY = 'amp-test-key-9c1d2e';

export interface Harness {
  readonly prefix: string;
  readonly ampersand: FakeAmpersand;
  readonly slack: FakeSlack;
  readonly redis: Redis;
  readonly monitors: { monitor: Monitor; logs: CapturedLogs }[];
  env(extra?: Env): Env;
  start(extra?: Env, overrides?: MonitorOverrides): Promise<{ monitor: Monitor; logs: CapturedLogs }>;
  metrics(index?: number): Promise<string>;
  get(path: string, index?: number): Promise<{ status: number; body: string }>;
  /** Slack texts received so far. */
  texts(): string[];
  stop(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const prefix = uniquePrefix();
  const ampersand = await startFakeAmpersand({ apiKey: API_KEY, projectId: 'proj-1' });
  const slack = await startFakeSlack();
  const redis = connect();
  const monitors: Harness['monitors'] = [];

  const env = (extra: Env = {}): Env => ({
    AMPERSAND_API_KEY: API_KEY,
    AMPERSAND_API_URL: ampersand.url,
    AMPERSAND_PROJECT_ID: 'proj-1',
    AMPERSAND_INTEGRATION_IDS: 'int-1',
    POLL_INTERVAL_SECONDS: '1',
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    SLACK_WEBHOOK_URL: slack.webhookUrl,
    AMPERSAND_TIMEOUT_SECONDS: '2',
    LOG_LEVEL: 'debug',
    ...extra,
  });

  const harness: Harness = {
    prefix,
    ampersand,
    slack,
    redis,
    monitors,
    env,
    async start(extra = {}, overrides = {}) {
      const logs = captureLogs();
      // The config refuses port 0; in-process monitors take a free port through the override
      // unless a test names a port (a METRICS_PORT of '0' from older tests means the same).
      const { METRICS_PORT: metricsPort, ...rest } = env(extra);
      const port = metricsPort === undefined || metricsPort === '0' ? { httpPort: 0 } : {};
      const configEnv: Env = { ...rest, ...(port.httpPort === 0 ? {} : { METRICS_PORT: metricsPort }) };
      // With MONITOR_CONFIG, the file is read as the service reads it (loadConfig); without, the environment alone.
      const loaded = configEnv['MONITOR_CONFIG'] === undefined ? { config: parseConfig(configEnv) } : await loadConfig(configEnv);
      if (loaded instanceof ConfigError) throw loaded;
      const monitor = await startMonitor(loaded.config, {
        logger: logs.logger,
        ...port,
        ...overrides,
      });
      const entry = { monitor, logs };
      monitors.push(entry);
      return entry;
    },
    async get(path, index = 0) {
      const m = monitors[index];
      if (!m) throw new Error(`no monitor ${index}`);
      const res = await fetch(`http://127.0.0.1:${m.monitor.httpPort}${path}`);
      return { status: res.status, body: await res.text() };
    },
    async metrics(index = 0) {
      return (await harness.get('/metrics', index)).body;
    },
    texts: () => slack.messages.map((m) => String(m.body.text)),
    async stop() {
      await Promise.all(monitors.map((m) => m.monitor.close()));
      await Promise.all([ampersand.close(), slack.close()]);
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
  return harness;
}

/** A TCP port free right now on 127.0.0.1, for a process whose METRICS_PORT must be set (0 is refused). */
export { freePort } from './private-redis.js';

/** The value of one series in a Prometheus text exposition, or undefined if absent. */
export function sample(metricsText: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
