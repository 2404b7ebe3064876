/**
 * A small driver for profiling the poll alone (issue 9): it serves N
 * installations from the fake Ampersand in this process, wires the poll job as
 * the bench's poll child does, and alternates a floor (GET + JSON.parse) with
 * an unchanged poll, printing each time and their median ratio. Run it under
 * `node --cpu-prof` to see where a poll's time goes without the bench's
 * scrape and alert runs:
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir /tmp/prof scripts/bench/poll-profile.ts 10000 5
 *
 * It uses REDIS_URL (127.0.0.1:6379 by default) under a fresh prefix, which it deletes at the end.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createFailureDetailsFetcher } from '../../jobs/fetch-failure-details.js';
import { createPollIntegration } from '../../jobs/poll-integration.js';
import { createAmpersandClient } from '../../src/adapters/ampersand-client.js';
import { createMetrics } from '../../src/adapters/metrics.js';
import { createRedisStores } from '../../src/adapters/redis/stores.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { connectRedis } from '../../src/runtime/redis-connection.js';
import { openRuntime } from '../../src/runtime/runtime.js';
import { startFakeAmpersand } from '../../src/simulator/fake-ampersand-server.js';
import { buildDetailedInstallation } from '../../src/simulator/fixtures.js';
import { benchInstallations, benchIntegrationId } from './load.js';

const n = Number(process.argv[2] ?? 10_000);
const reps = Number(process.argv[3] ?? 3);
const apiKey = 'bench-profile-key';
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const fake = await startFakeAmpersand({ apiKey, projectId: 'bench-project', buildInstallation: buildDetailedInstallation });
const integrationId = benchIntegrationId(n);
fake.setIntegration(integrationId, 'salesforce', benchInstallations(n));
const prefix = `ahm-profile-${randomUUID().slice(0, 8)}`;
const config = parseConfig({
  AMPERSAND_API_KEY: apiKey,
  AMPERSAND_API_URL: fake.url,
  AMPERSAND_PROJECT_ID: 'bench-project',
  AMPERSAND_INTEGRATION_IDS: integrationId,
  REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: prefix,
  AMPERSAND_TIMEOUT_SECONDS: '120',
});
const logger = createLogger('error', process.stderr);
const now = (): Date => new Date();
const redis = await connectRedis({ url: config.redisUrl, cluster: undefined }, logger);
const { snapshots, outbox, initMarker } = createRedisStores({ redis, prefix, deadLetterMax: config.slack.deadLetterMax });
const client = createAmpersandClient({ ...config.ampersand, projectId: 'bench-project', logger });
const ampersand = { forProject: (id: string) => (id === 'bench-project' ? client : undefined) };
const { pollIntervalMs, pollConcurrency, jobLockMs, slack } = config;
const { delivery } = openRuntime({
  redis,
  prefix,
  logger,
  now,
  initMarker,
  settings: { pollIntervalMs, pollConcurrency, jobLockMs, slackMessagesPerSecond: slack.messagesPerSecond },
});
const poll = createPollIntegration({
  ampersand,
  snapshots,
  outbox,
  metrics: createMetrics(new Registry()),
  logger,
  projectId: 'bench-project',
  delivery,
  observer: { pollSucceeded: () => Promise.resolve(), pollFailed: () => Promise.resolve() },
  now,
  newLineage: () => randomUUID().slice(0, 8),
  policy: config.alerts.policy,
  failureDetails: createFailureDetailsFetcher({ ampersand, logger, now, perCycle: 0 }),
});
const url = `${fake.url}/projects/bench-project/integrations/${integrationId}/installations`;
const floor = async (): Promise<number> => {
  const started = performance.now();
  const body = JSON.parse(await (await fetch(url, { headers: { 'X-Api-Key': apiKey } })).text()) as unknown[];
  if (body.length !== n) throw new Error('short body');
  return performance.now() - started;
};
const timed = async (): Promise<number> => {
  const started = performance.now();
  const outcome = await poll({ integrationId, cycleId: randomUUID() }, 'profile');
  if (outcome.status !== 'committed') throw new Error(`poll ${outcome.status}`);
  return performance.now() - started;
};
try {
  console.log(`N = ${n}: baseline poll ${(await timed()).toFixed(0)} ms`);
  const floors: number[] = [];
  const polls: number[] = [];
  for (let i = 0; i < reps; i += 1) {
    floors.push(await floor());
    polls.push(await timed());
    console.log(`  floor ${floors.at(-1)?.toFixed(0)} ms, unchanged poll ${polls.at(-1)?.toFixed(0)} ms`);
  }
  console.log(
    `median floor ${median(floors).toFixed(0)} ms, poll ${median(polls).toFixed(0)} ms, ratio ${(median(polls) / median(floors)).toFixed(2)}; rss now ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
  );
} finally {
  const keys = await redis.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  await redis.quit();
  await fake.close();
  // The queues opened for the hand-off hold their own connections: this driver ends here.
  process.exit(0);
}
