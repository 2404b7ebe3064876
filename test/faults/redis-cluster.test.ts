/**
 * The service on a real Redis Cluster (three masters, one replica each, on
 * loopback; test/helpers/redis-cluster.ts), unchanged but for
 * REDIS_CLUSTER_NODES and a hash-tagged QUEUE_PREFIX: baseline, transition,
 * alert, restart, no duplicate. Then the master that serves the monitor's slot
 * is SIGKILLed while the service polls and a change is waiting to be alerted:
 * its replica is promoted, and the alert arrives exactly once, as does the
 * next one. This is the failure a production cluster (with replicas) sees; a
 * cluster without replicas stops serving the slot until the master restarts,
 * which is the standalone Redis outage of test/e2e/redis-outage.test.ts.
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { runCli } from '../helpers/cli.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.js';
import { sleep, waitFor } from '../helpers/wait.js';

let cluster: TestCluster | undefined;
let h: Harness | undefined;
let client: Cluster | undefined;

beforeAll(async () => {
  cluster = await startTestCluster();
}, 90_000);

afterAll(async () => {
  // Each step runs whatever failed before it: no node, directory or server outlives the file.
  if (process.env['DEBUG_CLUSTER_LOGS'] !== undefined)
    (await import('node:fs')).writeFileSync(process.env['DEBUG_CLUSTER_LOGS'], h?.monitors.map((m) => m.logs.text()).join('\n=====\n') ?? '');
  await h?.stop().catch(() => undefined);
  client?.disconnect();
  await cluster?.stop();
});

/** The Slack texts of one kind: `[BASELINE]`, `[FIRING`, `[RESOLVED`. */
const count = (harness: Harness, mark: string): number => harness.texts().filter((t) => t.startsWith(mark)).length;

describe('on a Redis Cluster of three masters with a replica each', () => {
  it('alerts each change exactly once, across a restart of the monitor and a SIGKILL of the master of its slot', async () => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    const harness = (h = await createHarness());
    // What the monitor logged says where it stalled, if it did.
    onTestFailed(() => {
      process.stderr.write(`${harness.monitors.map((m) => m.logs.text().slice(-20_000)).join('\n')}\n`);
    });
    const prefix = `{${harness.prefix}}`;
    const nodes = cluster.nodes.split(',').map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) }));
    const reader = (client = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: null } }));
    const version = async (): Promise<number> => Number(await reader.hget(`${prefix}:state:snap:int-1`, 'v'));
    const polls = async (n: number, timeoutMs = 20_000): Promise<void> => {
      const from = await version();
      await waitFor(`${n} more polls`, async () => (await version()) >= from + n, timeoutMs);
    };
    const env = {
      // Unset: the harness's REDIS_URL is the shared standalone Redis, no node of this cluster.
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: cluster.nodes,
      QUEUE_PREFIX: prefix,
      POLL_INTERVAL_SECONDS: '0.5',
      ALERT_AFTER_POLLS: '1',
      RESOLVE_AFTER_POLLS: '1',
      UPSTREAM_DEGRADED_AFTER_CYCLES: '1000',
      // One message per change, so that each is counted.
      SLACK_OUTBOX_COALESCE: 'false',
    };
    harness.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { healthStatus: 'unhealthy' })]);

    // Baseline, then a transition and its alert.
    const first = await harness.start(env);
    await waitFor('the baseline summary', () => count(harness, '[BASELINE]') === 1, 20_000);
    harness.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the alert of a', () => count(harness, '[FIRING') === 1, 20_000);
    // Every key of the deployment (BullMQ's and the state's) is on the master of its hash tag's slot, and under the prefix.
    const master = await cluster.masterOf(prefix);
    const byMaster = await Promise.all(reader.nodes('master').map(async (node) => ({ port: node.options.port, keys: await node.keys(`*${harness.prefix}*`) })));
    expect(byMaster.filter((n) => n.keys.length > 0).map((n) => n.port)).toEqual([master]);
    const keys = byMaster.flatMap((n) => n.keys);
    expect(keys.filter((key) => key.startsWith(`${prefix}:state:`)).length).toBeGreaterThan(3);
    expect(keys.filter((key) => key.startsWith(`${prefix}:poll:`)).length).toBeGreaterThan(0);
    expect(keys.filter((key) => !key.startsWith(`${prefix}:`))).toEqual([]);

    // A restart of the monitor: its state is read back from the cluster, nothing is sent again.
    await first.monitor.close();
    harness.monitors.length = 0;
    await harness.start(env);
    await polls(3);
    expect(harness.texts()).toHaveLength(2);
    expect((await harness.get('/readyz')).status).toBe(200);

    // A change waits to be alerted, and the master of the slot dies while the service polls.
    harness.ampersand.update('int-1', 'b', { healthStatus: 'healthy' });
    await sleep(150 + Math.floor(Math.random() * 400));
    const killedAt = Date.now();
    await cluster.kill(master);
    await cluster.waitHealthy(prefix, 30_000);
    const failedOverMs = Date.now() - killedAt;
    const promoted = await cluster.masterOf(prefix);
    expect(promoted).not.toBe(master);
    await waitFor('the alert of b after the failover', () => count(harness, '[RESOLVED') >= 1, 20_000);
    const alertedMs = Date.now() - killedAt;
    await waitFor('readyz 200 after the failover', async () => (await harness.get('/readyz')).status === 200, 20_000);

    // The killed node comes back from its files and rejoins as a replica of the promoted one.
    await cluster.restart(master);
    await cluster.waitHealthy(prefix, 30_000);
    expect(await cluster.masterOf(prefix)).toBe(promoted);

    // The service goes on: a next change alerts once, and nothing was sent twice.
    harness.ampersand.update('int-1', 'a', { healthStatus: 'healthy' });
    // After the rejoin the client learns the new topology (MOVED, a slots refresh) before BullMQ's
    // blocking connection takes jobs again: 8 to 17 s in runs alone, over 20 s once in CI at d53c232.
    await waitFor('the alert of a recovering', () => count(harness, '[RESOLVED') === 2, 60_000);
    await polls(3);
    expect({
      baseline: count(harness, '[BASELINE]'),
      firing: count(harness, '[FIRING'),
      resolved: count(harness, '[RESOLVED'),
      all: harness.texts().length,
    }).toEqual({
      baseline: 1,
      firing: 1,
      resolved: 2,
      all: 4,
    });
    // A node of the cluster named as a standalone REDIS_URL stops start-up with one line saying so.
    await expect(harness.start({ ...env, REDIS_CLUSTER_NODES: '', REDIS_URL: `redis://127.0.0.1:${promoted}` })).rejects.toThrow(
      `Redis is not reachable at REDIS_URL=redis://127.0.0.1:${promoted} (it is a node of a Redis Cluster: name the cluster with REDIS_CLUSTER_NODES or a redis+cluster:// REDIS_URL)`,
    );

    // The CLI reads the same cluster.
    const cli = await runCli(['status', '--json'], { ...harness.env(env), LOG_LEVEL: 'error' });
    expect({ code: cli.code, stderr: cli.stderr }).toEqual({ code: 0, stderr: '' });
    expect(cli.stdout).toContain('int-1');
    // docs/RELIABILITY.md quotes these.
    console.log(
      `redis-cluster: master :${master} killed; replica :${promoted} serving after ${failedOverMs} ms; the waiting alert arrived ${alertedMs} ms after the kill`,
    );
  }, 180_000);
});
