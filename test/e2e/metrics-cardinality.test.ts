/**
 * /metrics and its cost on a real Redis (issue 9): METRICS_INSTALLATION_SERIES
 * in each mode, values outside the spec as status="other", concurrent scrapes
 * sharing one refresh, a scrape of an unchanged state reading only tokens, and
 * the counters of a forgotten integration gone from every replica.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { createPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness | undefined;
let privateRedis: PrivateRedis | undefined;
afterEach(async () => {
  await h?.stop();
  await privateRedis?.stop();
  h = undefined;
  privateRedis = undefined;
});

const perInstallation = [
  'ampersand_installation_health_status',
  'ampersand_installation_last_operation_status',
  'ampersand_installation_connection_status',
  'ampersand_installation_info',
];
const installationsIn = (text: string): string[] => {
  const ids = new Set<string>();
  for (const line of text.split('\n')) {
    if (!perInstallation.some((name) => line.startsWith(`${name}{`))) continue;
    const id = /installation_id="([^"]*)"/.exec(line)?.[1];
    if (id !== undefined) ids.add(id);
  }
  return [...ids].sort();
};

describe('METRICS_INSTALLATION_SERIES', () => {
  const serve = async (mode: string | undefined): Promise<string> => {
    h = await createHarness();
    h.ampersand.setIntegration('int-1', 'salesforce', [
      installationSpec('ok'),
      installationSpec('sick', { healthStatus: 'unhealthy' }),
      installationSpec('failing', { lastOperationStatus: 'failure' }),
      installationSpec('odd', { connectionStatus: 'suspended' }),
    ]);
    await h.start(mode === undefined ? {} : { METRICS_INSTALLATION_SERIES: mode });
    const harness = h;
    await waitFor('the baseline on /metrics', async () => sample(await harness.metrics(), 'ampersand_installations', { health_status: 'healthy' }) === 3);
    return h.metrics();
  };
  const aggregates = (text: string): (number | undefined)[] => [
    sample(text, 'ampersand_installations', { integration_id: 'int-1', health_status: 'unhealthy' }),
    sample(text, 'ampersand_installations_by_last_operation_status', { integration_id: 'int-1', status: 'failure' }),
    sample(text, 'ampersand_installations_by_connection_status', { integration_id: 'int-1', status: 'other' }),
  ];

  it('all (the default): every installation has its series, a value outside the spec as status="other"', async () => {
    const text = await serve(undefined);
    expect(installationsIn(text)).toEqual(['failing', 'odd', 'ok', 'sick']);
    expect(sample(text, 'ampersand_installation_connection_status', { installation_id: 'odd', status: 'other' })).toBe(1);
    expect(text).not.toContain('suspended');
    expect(aggregates(text)).toEqual([1, 1, 1]);
  });

  it('unhealthy: only the installations that are not healthy, working and succeeding', async () => {
    const text = await serve('unhealthy');
    expect(installationsIn(text)).toEqual(['failing', 'odd', 'sick']);
    expect(aggregates(text)).toEqual([1, 1, 1]);
  });

  it('none: no per-installation series, every aggregate', async () => {
    const text = await serve('none');
    expect(installationsIn(text)).toEqual([]);
    expect(aggregates(text)).toEqual([1, 1, 1]);
    expect(sample(text, 'ampersand_alerts_firing', { integration_id: 'int-1', condition: 'unhealthy' })).toBeDefined();
  });
});

describe('the cost of a scrape in Redis', () => {
  const stats = async (redis: Redis): Promise<{ smembers: number; outBytes: number }> => {
    const commands = await redis.info('commandstats');
    const server = await redis.info('stats');
    return {
      smembers: Number(/cmdstat_smembers:calls=(\d+)/.exec(commands)?.[1] ?? 0),
      outBytes: Number(/total_net_output_bytes:(\d+)/.exec(server)?.[1] ?? 0),
    };
  };

  it('is one refresh for concurrent scrapes, and a scrape of an unchanged state reads no snapshot', async () => {
    privateRedis = await createPrivateRedis();
    await privateRedis.start();
    const probe = new Redis(privateRedis.url);
    try {
      h = await createHarness();
      h.ampersand.setIntegration(
        'int-1',
        'salesforce',
        Array.from({ length: 2000 }, (_, i) => installationSpec(`inst-${i}`)),
      );
      // One cycle at start, then none during the test: only scrapes read the integrations set.
      await h.start({ REDIS_URL: privateRedis.url, POLL_INTERVAL_SECONDS: '3600' });
      const harness = h;
      await waitFor('the baseline on /metrics', async () => sample(await harness.metrics(), 'ampersand_installations', { health_status: 'healthy' }) === 2000);
      const snapshotBytes = await probe.hstrlen(`${h.prefix}:state:snap:int-1`, 'd');
      expect(snapshotBytes).toBeGreaterThan(100_000);

      const before = await stats(probe);
      const again = await h.metrics();
      const after = await stats(probe);
      expect(installationsIn(again)).toHaveLength(2000);
      // Tokens, the outbox and the webhook state: nothing near the snapshot's size.
      expect(after.outBytes - before.outBytes).toBeLessThan(snapshotBytes / 10);

      // Redis held for a moment: every scrape arrives while the first one's refresh waits for it.
      await probe.client('PAUSE', 300, 'ALL');
      const texts = await Promise.all(Array.from({ length: 10 }, () => harness.metrics()));
      const concurrent = await stats(probe);
      expect(concurrent.smembers - after.smembers).toBe(1);
      for (const text of texts) expect(text).toBe(texts[0]);
    } finally {
      probe.disconnect();
    }
  });
});

describe('an integration the service forgot', () => {
  it('leaves no series, counters and histograms included, on any replica', async () => {
    h = await createHarness();
    h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a')]);
    h.ampersand.setIntegration('int-2', 'hubspot', [installationSpec('x', { integrationId: 'int-2', provider: 'hubspot' })]);
    const env = { AMPERSAND_INTEGRATION_IDS: '', MONITOR_FORGET_AFTER_SECONDS: '3' };
    await h.start(env);
    await h.start(env);
    const harness = h;
    const hasInt2 = async (index: number): Promise<boolean> => (await harness.metrics(index)).includes('integration_id="int-2"');
    // Both replicas export the shared state; at least one of them polled int-2 and has its histogram.
    await waitFor('int-2 on both replicas', async () => (await hasInt2(0)) && (await hasInt2(1)));
    await waitFor('a poll of int-2 timed', async () => {
      const texts = await Promise.all([0, 1].map((i) => harness.metrics(i)));
      return texts.some((t) => (sample(t, 'ampersand_poll_duration_seconds_count', { integration_id: 'int-2' }) ?? 0) > 0);
    });

    h.ampersand.removeIntegration('int-2');
    await waitFor('int-2 gone from both replicas', async () => !(await hasInt2(0)) && !(await hasInt2(1)), 30_000);
    // And int-1, still listed, keeps its own.
    const texts = await Promise.all([0, 1].map((i) => harness.metrics(i)));
    expect(texts.some((t) => (sample(t, 'ampersand_poll_duration_seconds_count', { integration_id: 'int-1' }) ?? 0) > 0)).toBe(true);
  });
});
