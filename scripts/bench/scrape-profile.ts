/**
 * `npx tsx scripts/bench/scrape-profile.ts [N] [redis-url]`: one cold and three unchanged
 * refreshes of N installations (one integration) through the real store and metrics adapters,
 * timed, with the event loop's longest block; run it under `node --cpu-prof` (tsx passes it on)
 * to see where a scrape's time goes. Writes under a unique prefix and deletes it afterwards.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createMetrics } from '../../src/adapters/metrics.js';
import { createRedisSnapshotStore } from '../../src/adapters/redis/snapshot-store.js';
import { diffSnapshots } from '../../src/core/diff.js';

const n = Number(process.argv[2] ?? 100_000);
const redis = new Redis(process.argv[3] ?? 'redis://127.0.0.1:6379');
const prefix = `scrape-profile-${randomUUID().slice(0, 8)}`;
const store = createRedisSnapshotStore({ redis, prefix });
const list = Array.from({ length: n }, (_, i) => ({
  id: randomUUID(),
  projectId: 'proj-bench',
  integrationId: 'int-bench',
  groupRef: `group-${i}`,
  groupName: `Customer ${i} Inc.`,
  provider: 'salesforce',
  healthStatus: i % 100 === 0 ? 'unhealthy' : 'healthy',
  lastOperationStatus: 'success',
  connectionStatus: 'working',
  consumerRef: 'c',
  consumerName: 'n',
  pausedReads: [],
}));
const snapshot = diffSnapshots(undefined, list).next;
await store.commit({
  integrationId: 'int-bench',
  expectedVersion: undefined,
  version: 1,
  lineage: 'L',
  projectId: 'proj-bench',
  snapshot,
  nowMs: Date.now(),
  outbox: [],
});
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
for (const mode of ['all', 'unhealthy', 'none'] as const) {
  const registry = new Registry();
  const metrics = createMetrics(registry, { defaultMetrics: false, installationSeries: mode });
  for (let k = 0; k < 4; k++) {
    loop.reset();
    const t0 = performance.now();
    await metrics.refreshFromState(await store.loadChanged(metrics.stateTokens()));
    const t1 = performance.now();
    const body = [Buffer.from(await registry.metrics()), ...metrics.exposition()];
    const t2 = performance.now();
    const bytes = body.reduce((a, b) => a + b.length, 0);
    const heap = process.memoryUsage();
    process.stdout.write(
      `${mode} ${k === 0 ? 'cold' : 'unchanged'}: refresh ${(t1 - t0).toFixed(0)} ms, render ${(t2 - t1).toFixed(1)} ms, ` +
        `${(bytes / 1e6).toFixed(0)} MB; loop blocked up to ${(loop.max / 1e6 - 10).toFixed(0)} ms; rss ${(heap.rss / 1e6).toFixed(0)} MB, heap ${(heap.heapUsed / 1e6).toFixed(0)} MB\n`,
    );
  }
}
loop.disable();
await redis.del(`${prefix}:state:snap:int-bench`, `${prefix}:state:integrations`, `${prefix}:state:alerts:int-bench`);
redis.disconnect();
