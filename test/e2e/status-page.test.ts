/**
 * The status page (`GET /`) of the real service, wired as in production: it
 * shows what Redis holds, and when Redis is gone or stops answering it still
 * answers within a few seconds, with a 503 page that says the state is
 * unavailable, and shows the state again once Redis is back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { createPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
let redis: PrivateRedis | undefined;

beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a'), installationSpec('b', { healthStatus: 'unhealthy', groupName: 'Acme & Sons' })]);
});
afterEach(async () => {
  await h.stop();
  await redis?.stop();
  redis = undefined;
});

/** GET or HEAD of the page; a page that does not answer within 5 s fails the test rather than hanging it. */
async function load(port: number, method = 'GET'): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { method, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('GET /', () => {
  it('shows the state Redis holds, with the DASHBOARD_URL link', async () => {
    const { monitor } = await h.start({ DASHBOARD_URL: 'https://grafana.example.com/d/ahm?orgId=1' });
    await waitFor('the baseline', () => h.texts().length === 1);
    const page = await load(monitor.httpPort);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<td class="group">Acme &amp; Sons</td>');
    expect(page.body).toContain('<span class="badge bad">1</span>');
    expect(page.body).toContain('<th scope="row">int-1</th>');
    expect(page.body).toContain('<a href="https://grafana.example.com/d/ahm?orgId=1" rel="noopener noreferrer">Grafana dashboard</a>');
    const head = await load(monitor.httpPort, 'HEAD');
    expect({ status: head.status, body: head.body, length: head.headers.get('content-length') }).toEqual({
      status: 200,
      body: '',
      length: String(Buffer.byteLength(page.body)),
    });
  });

  describe('when Redis goes away', () => {
    it('answers 503 at once while the connection is down, within a few seconds while Redis does not answer, and shows the state once it is back', async () => {
      redis = await createPrivateRedis();
      await redis.start();
      const { monitor } = await h.start({ REDIS_URL: redis.url });
      await waitFor('the baseline', () => h.texts().length === 1);
      expect((await load(monitor.httpPort)).status).toBe(200);

      // Accepts commands and never answers them: the page gives up after 2 s.
      redis.signal('SIGSTOP');
      const stalled = await load(monitor.httpPort);
      expect(stalled.status).toBe(503);
      expect(stalled.body).toContain("The monitor's state cannot be read right now: Redis did not answer within 2 s.");
      expect(stalled.body).toContain('<meta http-equiv="refresh" content="30">');
      expect(stalled.headers.get('content-security-policy')).toContain("default-src 'none'");

      // Gone: the connection is down, and the page says so without waiting.
      await redis.stop();
      await waitFor('the connection to be down', async () => (await load(monitor.httpPort)).body.includes('the connection to Redis is'));
      const down = await load(monitor.httpPort);
      expect(down.status).toBe(503);
      expect(down.body).not.toContain(redis.url);

      await redis.start();
      await waitFor('the page to show the state again', async () => (await load(monitor.httpPort)).status === 200, 20_000);
    }, 60_000);
  });
});
