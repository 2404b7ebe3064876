/**
 * Redis trouble, on a private redis-server: /readyz turns 503 while Redis is
 * gone and 200 once it is back; a Redis that comes back empty gets its
 * schedule again and a fresh baseline, with no wave of alerts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { createPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
let redis: PrivateRedis;

beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { healthStatus: 'unhealthy' })]);
  redis = await createPrivateRedis();
  await redis.start();
});
afterEach(async () => {
  await h.stop();
  await redis.stop();
});

describe('when Redis goes away', () => {
  it('still shuts down within 10 s', async () => {
    const { monitor } = await h.start({ REDIS_URL: redis.url });
    await waitFor('the baseline summary', () => h.texts().length === 1);
    await redis.stop();
    await waitFor('readyz 503', async () => (await h.get('/readyz')).status === 503);
    const started = Date.now();
    await monitor.close();
    expect(Date.now() - started).toBeLessThan(3000);
  }, 30_000);

  it('turns /readyz 503 with the reason, and back to 200 with a fresh baseline and no wave of alerts', async () => {
    const { logs } = await h.start({ REDIS_URL: redis.url });
    await waitFor('the baseline summary', () => h.texts().length === 1);
    expect((await h.get('/readyz')).status).toBe(200);
    await h.metrics();

    await redis.stop();
    await waitFor('readyz 503', async () => (await h.get('/readyz')).status === 503);
    const body = JSON.parse((await h.get('/readyz')).body) as { reason: string };
    expect(body.reason).toContain('Redis is not answering');
    expect((await h.get('/healthz')).status).toBe(200);
    // /metrics does not wait for Redis: it serves the last values at once.
    const scrapeStarted = Date.now();
    const scrape = await h.get('/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain('ampersand_installations{');
    expect(Date.now() - scrapeStarted).toBeLessThan(1000);

    // Redis restarts without persistence: everything is gone.
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await redis.start();
    await waitFor('readyz 200 again', async () => (await h.get('/readyz')).status === 200, 20_000);
    await waitFor('the new baseline summary', () => h.texts().length === 2, 20_000);
    expect(h.texts()[1]).toContain('[BASELINE]');
    expect(h.texts().some((t) => t.includes('FIRING'))).toBe(false);
    expect(logs.text()).toContain('Redis holds no state of this deployment any more');
  }, 60_000);
});
