/**
 * The API key and the webhook URL must appear in no log line, error, metric or
 * Slack message, including when requests fail.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { API_KEY, createHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration('int-1', 'salesforce', [installationSpec('a', { healthStatus: 'unhealthy' })]);
});
afterEach(async () => {
  await h.stop();
});

describe('secrets', () => {
  it('never show in logs, metrics, /readyz or Slack messages, also when requests fail', async () => {
    const secretPath = new URL(h.slack.webhookUrl).pathname;
    // Slack fails first (5xx, then a hang), the API fails in every way it can.
    h.slack.inject({ kind: 'status', status: 500 }, { kind: 'hang' });
    h.ampersand.inject(
      'int-1',
      { kind: 'status', status: 401 },
      { kind: 'status', status: 403 },
      { kind: 'status', status: 500, problem: { title: `echo ${API_KEY}`, status: 500, detail: `key was ${API_KEY}` } },
      { kind: 'raw', contentType: 'application/json', body: 'not json' },
      { kind: 'hang' },
    );
    const { logs } = await h.start({ SLACK_TIMEOUT_SECONDS: '1', AMPERSAND_TIMEOUT_SECONDS: '1' });
    await waitFor('the baseline message to get through', () => h.slack.messages.length >= 1, 30_000);
    h.ampersand.setStickyFault({ kind: 'status', status: 500, problem: { title: API_KEY, status: 500, detail: API_KEY } });
    await waitFor('a failing poll after that', () => logs.text().includes(`HTTP 500 server_error`), 15_000);

    const everything = [logs.text(), await h.metrics(), (await h.get('/readyz')).body, ...h.slack.messages.map((m) => m.raw)].join('\n');
    expect(logs.text()).toContain('HTTP 401 unauthorized');
    expect(logs.text()).toContain('Slack');
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(secretPath);
    expect(everything).not.toContain('fakeWebhookSecret123');
  }, 60_000);
});
