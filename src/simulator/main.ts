/**
 * `npm run demo`: the service against a built-in Ampersand simulator, with no
 * credentials. The simulator serves spec-conformant data for a few
 * integrations whose installations change state now and then; Slack messages
 * go to a local fake webhook and are printed readably on the console; the
 * status page and /metrics are served on METRICS_PORT. Redis is the one at REDIS_URL; the demo
 * clears its own prefix (QUEUE_PREFIX, default ahm-demo) at start, and refuses
 * (exit 2) a prefix holding keys it did not write. If nothing
 * answers there, it runs a private redis-server for its lifetime, so a first
 * try needs nothing set up.
 */
import { Redis } from 'ioredis';
import { probeRedis } from '../adapters/redis/reachability.js';
import { parseConfig } from '../config.js';
import { RedisUnreachableError } from '../core/errors/redis-unreachable-error.js';
import { toError } from '../core/errors/to-error.js';
import { createLogger } from '../logger.js';
import { startMonitor } from '../main.js';
import { formatForConsole } from './console-format.js';
import { startFakeAmpersand } from './fake-ampersand-server.js';
import { startFakeSlack } from './fake-slack-server.js';
import { demoApiKey, demoIntegrations, demoProjectId, seedDemoIntegrations, startDemoChurn } from './demo-scenario.js';
import { RedisServerNotFoundError, startPrivateRedisServer, type PrivateRedisServer } from './private-redis-server.js';

let privateRedis: PrivateRedisServer | undefined;
// Set once a signal asks the demo to stop; a private redis-server still starting then stops itself.
const stopRequested = new AbortController();
// What stop() closes, in reverse order, besides the private redis-server; filled as start-up goes.
const closers: (() => Promise<void>)[] = [];
let privateRedisStarting: Promise<unknown> = Promise.resolve();

/** REDIS_URL if it answers; otherwise a private redis-server; otherwise the one-line RedisUnreachableError. */
async function demoRedisUrl(requested: string): Promise<string> {
  const failure = await probeRedis(requested, 2000);
  if (failure === undefined) return requested;
  try {
    const starting = startPrivateRedisServer(stopRequested.signal);
    privateRedisStarting = starting.catch(() => undefined);
    privateRedis = await starting;
    return privateRedis.url;
  } catch (error) {
    const why =
      error instanceof RedisServerNotFoundError
        ? 'and no redis-server on the PATH to start a private one'
        : `and a private redis-server failed: ${toError(error).message}`;
    throw new RedisUnreachableError(requested, `${failure}, ${why}`);
  }
}

let stopping = false;
/** Stops whatever has started so far, the private redis-server last; any signal, at any point of start-up, any number of times. */
function stop(): void {
  if (stopping) return;
  stopping = true;
  stopRequested.abort();
  setTimeout(() => process.exit(1), 9500).unref();
  void (async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await privateRedisStarting;
    await privateRedis?.stop();
  })().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}

async function main(): Promise<void> {
  // Before anything starts: a signal during start-up must not orphan the private redis-server.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  const env = process.env;
  const redisUrl = await demoRedisUrl(env['REDIS_URL']?.trim() || 'redis://127.0.0.1:6379');
  const ampersand = await startFakeAmpersand({ apiKey: demoApiKey, projectId: demoProjectId });
  closers.push(() => ampersand.close());
  const slack = await startFakeSlack({ onMessage: (m) => process.stdout.write(`\n${formatForConsole(m.body, new Date(m.at))}`) });
  closers.push(() => slack.close());

  seedDemoIntegrations(ampersand);
  const stopChurn = startDemoChurn(ampersand, 7000);
  closers.push(() => {
    stopChurn();
    return Promise.resolve();
  });

  const config = parseConfig({
    AMPERSAND_API_KEY: demoApiKey,
    AMPERSAND_API_URL: ampersand.url,
    AMPERSAND_PROJECT_ID: demoProjectId,
    AMPERSAND_INTEGRATION_IDS: '',
    POLL_INTERVAL_SECONDS: env['POLL_INTERVAL_SECONDS'] ?? '5',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: env['QUEUE_PREFIX'] ?? 'ahm-demo',
    SLACK_WEBHOOK_URL: slack.webhookUrl,
    METRICS_PORT: env['METRICS_PORT'],
    METRICS_HOST: env['METRICS_HOST'],
    LOG_LEVEL: env['LOG_LEVEL'] ?? 'warn',
    DASHBOARD_URL: env['DASHBOARD_URL'],
  });
  // The simulator starts from scratch each run, so the demo's Redis state does too; but only state
  // the demo wrote is cleared: QUEUE_PREFIX=ahm exported in a shell pointed at production Redis
  // must not wipe a monitor's snapshots and queued alerts.
  const redis = new Redis(config.redisUrl);
  try {
    await clearDemoPrefix(redis, config.queuePrefix);
  } finally {
    redis.disconnect();
  }

  const logger = createLogger(config.logLevel);
  if (stopping) return;
  const monitor = await startMonitor(config, { logger });
  closers.push(() => monitor.close());
  process.stdout.write(
    [
      'ampersand-health-monitor demo',
      `  simulated Ampersand API: ${ampersand.url} (project ${demoProjectId}, ${demoIntegrations.length} integrations)`,
      `  status page: http://127.0.0.1:${monitor.httpPort}/`,
      `  metrics:   http://127.0.0.1:${monitor.httpPort}/metrics   readiness: http://127.0.0.1:${monitor.httpPort}/readyz`,
      privateRedis === undefined
        ? `  Redis:     ${config.redisUrl} (prefix ${config.queuePrefix})`
        : `  Redis:     ${config.redisUrl}, a private redis-server (pid ${privateRedis.pid}, dir ${privateRedis.dir}): nothing answered at ${env['REDIS_URL']?.trim() || 'redis://127.0.0.1:6379'}; stopped on exit`,
      '  Slack messages are printed below. Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

/** QUEUE_PREFIX holds state the demo did not write: a configuration mistake, exit 2. */
class DemoPrefixInUseError extends Error {
  override readonly name = 'DemoPrefixInUseError';
}

/** The key that marks a prefix as the demo's own, so that a later run may clear it. */
const demoOwnedKey = (prefix: string): string => `${prefix}:demo-owned`;

/** Deletes every key under `prefix` if the demo wrote them (or there are none), then marks the prefix as the demo's. */
async function clearDemoPrefix(redis: Redis, prefix: string): Promise<void> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  if (found.length > 0 && (await redis.exists(demoOwnedKey(prefix))) === 0) {
    throw new DemoPrefixInUseError(
      `QUEUE_PREFIX=${prefix} holds ${found.length} key(s) the demo did not write (a monitor's state?); the demo clears its prefix at start, so it refuses this one: unset QUEUE_PREFIX (the demo's default is ahm-demo) or choose an unused one`,
    );
  }
  for (let i = 0; i < found.length; i += 1000) await redis.del(...found.slice(i, i + 1000));
  await redis.set(demoOwnedKey(prefix), '1');
}

main().catch(async (error: unknown) => {
  if (stopping) return;
  process.stderr.write(`demo failed: ${toError(error).message}\n`);
  await privateRedis?.stop().catch(() => undefined);
  process.exit(error instanceof DemoPrefixInUseError ? 2 : 1);
});
