/**
 * The service on a real Redis Sentinel deployment (a master, its replica and
 * one sentinel on loopback; test/helpers/redis-sentinel.ts), unchanged but for
 * REDIS_SENTINELS and REDIS_SENTINEL_NAME: it finds the master through the
 * sentinel, baselines and alerts. Then the master is SIGKILLed while the
 * service polls and a change is waiting to be alerted: the sentinel promotes
 * the replica, ioredis asks the sentinel again, and the alert arrives exactly
 * once, as does the next one. The CLI connects the same way.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { runCli } from '../helpers/cli.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { sentinelMasterName, sentinelPorts, startTestSentinel, type TestSentinel } from '../helpers/redis-sentinel.js';
import { sleep, waitFor } from '../helpers/wait.js';

let deployment: TestSentinel | undefined;
let h: Harness | undefined;
let client: Redis | undefined;

beforeAll(async () => {
  deployment = await startTestSentinel();
}, 40_000);

afterAll(async () => {
  // Each step runs whatever failed before it: no process, directory or server outlives the file.
  await h?.stop().catch(() => undefined);
  client?.disconnect();
  await deployment?.stop();
});

/** The Slack texts of one kind: `[BASELINE]`, `[FIRING`, `[RESOLVED`. */
const count = (harness: Harness, mark: string): number => harness.texts().filter((t) => t.startsWith(mark)).length;

describe('on Redis Sentinel (a master, a replica, one sentinel)', () => {
  it('finds the master through the sentinel and alerts each change exactly once across a SIGKILL of the master', async () => {
    if (deployment === undefined) throw new Error('the Sentinel deployment did not start');
    const harness = (h = await createHarness());
    onTestFailed(() => {
      process.stderr.write(`${harness.monitors.map((m) => m.logs.text().slice(-20_000)).join('\n')}\n`);
    });
    const prefix = harness.prefix;
    const reader = (client = new Redis({
      sentinels: [{ host: '127.0.0.1', port: sentinelPorts.sentinel }],
      name: sentinelMasterName,
      maxRetriesPerRequest: null,
    }));
    reader.on('error', () => undefined);
    const version = async (): Promise<number> => Number(await reader.hget(`${prefix}:state:snap:int-1`, 'v'));
    const polls = async (n: number, timeoutMs = 15_000): Promise<void> => {
      const from = await version();
      await waitFor(`${n} more polls`, async () => (await version()) >= from + n, timeoutMs);
    };
    const env = {
      // Unset: the default REDIS_URL's host is not used with REDIS_SENTINELS (it gives only credentials and database).
      REDIS_URL: '',
      REDIS_SENTINELS: deployment.sentinels,
      REDIS_SENTINEL_NAME: sentinelMasterName,
      POLL_INTERVAL_SECONDS: '0.5',
      ALERT_AFTER_POLLS: '1',
      RESOLVE_AFTER_POLLS: '1',
      UPSTREAM_DEGRADED_AFTER_CYCLES: '1000',
      // One message per change, so that each is counted.
      SLACK_OUTBOX_COALESCE: 'false',
    };
    harness.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { healthStatus: 'unhealthy' })]);

    // A master group the sentinel does not watch stops start-up with one line naming it.
    await expect(harness.start({ ...env, REDIS_SENTINEL_NAME: 'nosuch' })).rejects.toThrow(
      `Redis is not reachable through Sentinel master "nosuch" via 127.0.0.1:${sentinelPorts.sentinel}`,
    );
    harness.monitors.length = 0;

    // Baseline, then a transition and its alert, on the master the sentinel names.
    await harness.start(env);
    await waitFor('the baseline summary', () => count(harness, '[BASELINE]') === 1, 15_000);
    harness.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the alert of a', () => count(harness, '[FIRING') === 1, 15_000);
    expect(await deployment.masterPort()).toBe(sentinelPorts.master);
    expect((await reader.keys(`${prefix}:state:*`)).length).toBeGreaterThan(3);
    // Nothing went to the shared standalone Redis of the other tests (the default REDIS_URL's host).
    expect(await harness.redis.keys(`${prefix}:*`)).toEqual([]);

    // A change waits to be alerted, and the master dies while the service polls.
    harness.ampersand.update('int-1', 'b', { healthStatus: 'healthy' });
    await sleep(150 + Math.floor(Math.random() * 400));
    const killedAt = Date.now();
    await deployment.kill(sentinelPorts.master);
    await waitFor('the sentinel to promote the replica', async () => (await deployment?.masterPort()) === sentinelPorts.replica, 15_000);
    const failedOverMs = Date.now() - killedAt;
    await waitFor('the alert of b after the failover', () => count(harness, '[RESOLVED') >= 1, 15_000);
    const alertedMs = Date.now() - killedAt;
    await waitFor('readyz 200 after the failover', async () => (await harness.get('/readyz')).status === 200, 15_000);

    // The service goes on, on the promoted replica: a next change alerts once, and nothing was sent twice.
    harness.ampersand.update('int-1', 'a', { healthStatus: 'healthy' });
    await waitFor('the alert of a recovering', () => count(harness, '[RESOLVED') === 2, 15_000);
    await polls(3);
    expect({
      baseline: count(harness, '[BASELINE]'),
      firing: count(harness, '[FIRING'),
      resolved: count(harness, '[RESOLVED'),
      all: harness.texts().length,
    }).toEqual({ baseline: 1, firing: 1, resolved: 2, all: 4 });

    // The CLI finds the (new) master through the sentinel too.
    const cli = await runCli(['status', '--json'], { ...harness.env(env), LOG_LEVEL: 'error' });
    expect({ code: cli.code, stderr: cli.stderr }).toEqual({ code: 0, stderr: '' });
    expect(cli.stdout).toContain('int-1');
    console.log(
      `redis-sentinel: master :${sentinelPorts.master} killed; replica promoted after ${failedOverMs} ms; the waiting alert arrived ${alertedMs} ms after the kill`,
    );
  }, 60_000);
});
