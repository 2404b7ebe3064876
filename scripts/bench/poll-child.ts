/**
 * The poll child: the service's poll and cycle jobs wired as src/main.ts wires
 * them (the real Ampersand client, Redis stores, BullMQ hand-offs, upstream
 * tracker and metrics registry), but without workers, so that the bench calls
 * one job at a time and the Redis counters see that job alone. It counts the
 * writes on its Redis socket: one per command sent alone, one per pipeline,
 * which is the number of round trips of a job that awaits each step.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createFailureDetailsFetcher } from '../../jobs/fetch-failure-details.js';
import { createPollIntegration } from '../../jobs/poll-integration.js';
import { createRunCycle } from '../../jobs/run-cycle.js';
import { createUpstreamTracker } from '../../jobs/track-upstream.js';
import { createAmpersandClient } from '../../src/adapters/ampersand-client.js';
import { createMetrics } from '../../src/adapters/metrics.js';
import { createRedisStores } from '../../src/adapters/redis/stores.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { connectRedis } from '../../src/runtime/redis-connection.js';
import { isCluster } from '../../src/adapters/redis/redis-client.js';
import { openRuntime } from '../../src/runtime/runtime.js';
import { serveParent } from './child-process.js';
import type { CycleResult, PollInit, PollRequest, PollResult } from './protocol.js';

interface Wired {
  readonly redis: Redis;
  readonly pollIntegration: ReturnType<typeof createPollIntegration>;
  readonly runCycle: (integrationIds: readonly string[], cycleId: string) => ReturnType<ReturnType<typeof createRunCycle>>;
  close(): Promise<void>;
}

let wired: Wired | undefined;
let socketWrites = 0;

/** Counts every write on the connection's socket (ioredis writes a command alone, or a pipeline at once). */
function countWrites(redis: Redis): void {
  const socket = redis.stream;
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = (...args: unknown[]) => {
    socketWrites += 1;
    return write(...args);
  };
}

async function wire({ env }: PollInit): Promise<Wired> {
  const config = parseConfig(env);
  // Errors only, on stderr: the bench shows them if the child fails.
  const logger = createLogger('error', process.stderr);
  const now = (): Date => new Date();
  const { ampersand: amp, slack, queuePrefix: prefix, forgetAfterMs, pollIntervalMs, pollConcurrency, jobLockMs } = config;
  // The bench measures a standalone Redis (its private redis-server): INFO commandstats of one node.
  const redis = await connectRedis({ url: config.redisUrl, cluster: undefined }, logger);
  if (isCluster(redis)) throw new Error('the bench runs on a standalone Redis');
  countWrites(redis);
  const { snapshots, outbox, upstream: upstreamStore, initMarker } = createRedisStores({ redis, prefix, deadLetterMax: slack.deadLetterMax });
  // The bench watches one project, AMPERSAND_PROJECT_ID's.
  const [project] = config.projects;
  if (project === undefined) throw new Error('the bench needs AMPERSAND_PROJECT_ID');
  const client = createAmpersandClient({ ...amp, projectId: project.id, logger });
  const ampersand = { forProject: (id: string) => (id === project.id ? client : undefined) };
  const settings = { pollIntervalMs, pollConcurrency, jobLockMs, slackMessagesPerSecond: slack.messagesPerSecond };
  // The queues only: the workers are never started, so nothing runs behind the bench's back.
  const { delivery, polls } = openRuntime({ redis, prefix, logger, now, initMarker, settings });
  const shared = {
    ampersand,
    snapshots,
    outbox,
    metrics: createMetrics(new Registry()),
    logger,
    projectId: project.id,
    delivery,
    polls,
    forgetAfterMs,
    now,
  };
  const upstream = createUpstreamTracker({
    ...shared,
    projects: [project.id],
    store: upstreamStore,
    degradedAfterCycles: config.upstreamDegradedAfterCycles,
    newId: () => randomUUID(),
  });
  return {
    redis,
    // As src/main.ts wires it: the alert policy and the failure details of the configuration.
    pollIntegration: createPollIntegration({
      ...shared,
      observer: upstream,
      newLineage: () => randomUUID().slice(0, 8),
      policy: config.alerts.policy,
      massEvent: config.massEvent,
      failureDetails: createFailureDetailsFetcher({ ampersand, logger, now, perCycle: config.alerts.failureDetailsPerCycle }),
    }),
    runCycle: (integrationIds, cycleId) => createRunCycle({ ...shared, observer: upstream, projects: [{ ...project, integrationIds }] })(cycleId, 'bench'),
    async close() {
      await redis.quit();
    },
  };
}

let cycles = 0;

serveParent<PollRequest>({
  async init(init) {
    wired = await wire(init as PollInit);
  },
  async handle(request) {
    if (!wired) throw new Error('not initialised');
    const writesBefore = socketWrites;
    const started = performance.now();
    if (request.cmd === 'poll') {
      const outcome = await wired.pollIntegration({ integrationId: request.integrationId, cycleId: `bench-${cycles++}` }, 'bench');
      const ms = performance.now() - started;
      return {
        ms,
        outcome: outcome.status === 'failed' ? `fails: ${outcome.reason}` : outcome.status,
        redisWrites: socketWrites - writesBefore,
      } satisfies PollResult;
    }
    const outcome = await wired.runCycle(request.integrationIds, `bench-cycle-${cycles++}`);
    const ms = performance.now() - started;
    const status = outcome.status === 'queued' ? `queued ${outcome.integrations.length - outcome.notQueued}, not queued ${outcome.notQueued}` : outcome.status;
    return { ms, outcome: status, redisWrites: socketWrites - writesBefore } satisfies CycleResult;
  },
  async close() {
    await wired?.close();
  },
});
