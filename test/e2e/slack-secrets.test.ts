/**
 * A receiver that echoes the request path (an Express 404, a proxy, a typo'd
 * host: `Cannot POST /services/T…/B…/token`) must not carry the webhook token
 * into the logs, BullMQ's failedReason, any Redis key or value, /metrics,
 * /readyz, /healthz or the status page (which shows why Slack is paused).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { dumpPrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a', { healthStatus: 'unhealthy' })]);
});
afterEach(async () => {
  await h.stop();
});

describe('secrets, with a Slack receiver that echoes the webhook path', () => {
  it('never show in logs, failedReason, Redis, /metrics, /readyz, /healthz or the status page', async () => {
    const path = new URL(h.slack.webhookUrl).pathname;
    h.slack.setStickyFault({ kind: 'status', status: 404, body: `<!DOCTYPE html>\n<pre>Cannot POST ${path}</pre>\n` });
    const { logs } = await h.start({ SLACK_MESSAGES_PER_SECOND: '20' });
    // A failed delivery job keeps its failedReason (and stack) in Redis.
    await waitFor('a failed delivery job', async () => (await dumpPrefix(h.redis, h.prefix)).join('\n').includes('failedReason'), 20_000);
    const redis = (await dumpPrefix(h.redis, h.prefix)).join('\n');

    const everything = [logs.text(), redis, await h.metrics(), (await h.get('/readyz')).body, (await h.get('/healthz')).body, (await h.get('/')).body].join(
      '\n',
    );
    expect(everything).toContain('HTTP 404');
    expect(everything).not.toContain(path);
    expect(everything).not.toContain('fakeWebhookSecret123');
    expect(everything).not.toContain('B000FAKE');
  }, 30_000);
});
