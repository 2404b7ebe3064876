/**
 * Redis faults, on a private redis-server: dropped connections in the middle
 * of polls and deliveries lose and double nothing; an eviction policy that
 * BullMQ cannot live with is warned about at start.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../../src/core/snapshot.js';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { createPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { refOf } from '../helpers/slack.js';
import { sleep, waitFor } from '../helpers/wait.js';

let h: Harness;
let redis: PrivateRedis;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration(
    'int-1',
    'salesforce',
    ['a', 'b', 'c', 'd'].map((id) => installationSpec(id)),
  );
  redis = await createPrivateRedis();
  await redis.start();
});
afterEach(async () => {
  await h.stop();
  await redis.stop();
});

describe('Redis connection loss', () => {
  it('reconnects and resumes without losing or doubling an alert', async () => {
    // A killed connection can cost a job its lock (BullMQ then reports "Missing lock … moveToFinished");
    // the job is taken over once the lock lapses. The shortest lock the config allows keeps that
    // within the waits below; with the default 30 s a takeover can take up to a minute.
    await h.start({
      REDIS_URL: redis.url,
      POLL_INTERVAL_SECONDS: '0.2',
      SLACK_MESSAGES_PER_SECOND: '20',
      UPSTREAM_DEGRADED_AFTER_CYCLES: '1000',
      MONITOR_JOB_LOCK_SECONDS: '5',
      // One message per change, as the count below expects: while dropped connections slow delivery,
      // waiting digests would otherwise be merged (coalescing, tested in test/e2e/outbox-priority.test.ts).
      SLACK_OUTBOX_COALESCE: 'false',
    });
    const admin = new Redis(redis.url);
    await waitFor('the baseline', async () => (await admin.hget(`${h.prefix}:state:snap:int-1`, 'v')) !== null);

    // Drop every client connection every 150-400 ms while the state changes 20 times.
    let dropping = true;
    let drops = 0;
    const dropper = (async () => {
      while (dropping) {
        await sleep(150 + Math.random() * 250);
        // ioredis 6 types CLIENT KILL with one filter per call; Redis takes both at once.
        drops += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
      }
    })();
    const ids = ['a', 'b', 'c', 'd'];
    let unhealthy = new Set<string>();
    for (let step = 0; step < 20; step += 1) {
      const id = ids[step % ids.length] as string;
      const next = !unhealthy.has(id);
      unhealthy = new Set(next ? [...unhealthy, id] : [...unhealthy].filter((x) => x !== id));
      const status = next ? 'unhealthy' : 'healthy';
      h.ampersand.update('int-1', id, { healthStatus: status });
      // Wait for this change itself, not just a newer version: a poll that fetched before the
      // update commits an unchanged snapshot, and the change would then share the next message.
      await waitFor(
        `step ${step} committed`,
        async () => decodeSnapshot((await admin.hget(`${h.prefix}:state:snap:int-1`, 'd')) ?? '')?.get(id)?.healthStatus === status,
        30_000,
      );
    }
    dropping = false;
    await dropper;
    await waitFor('all 20 alerts', () => h.slack.messages.length >= 20, 30_000);
    await sleep(1500);
    const refs = h.slack.messages.map((m) => refOf(m.body));
    console.log(`FAULT-FIGURES ${JSON.stringify({ label: 'redis-connection-loss', drops, messages: refs.length, unique: new Set(refs).size })}`);
    expect(drops).toBeGreaterThan(5);
    expect(refs).toHaveLength(20);
    expect(new Set(refs).size).toBe(20);
    admin.disconnect();
  }, 120_000);
});

describe('Redis eviction policy', () => {
  it('is warned about at start unless it is noeviction', async () => {
    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const { logs } = await h.start({ REDIS_URL: redis.url });
    expect(logs.text()).toContain('Redis maxmemory-policy is \\"allkeys-lru\\"; BullMQ and the snapshots need \\"noeviction\\"');
    admin.disconnect();
  });
});
