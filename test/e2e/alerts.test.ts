/**
 * The alerts of issue 8, end to end: the real service with the fake Ampersand
 * (which serves operations and their logs) and the fake Slack, with the
 * default thresholds (ALERT_AFTER_POLLS=2, RESOLVE_AFTER_POLLS=2). A flap
 * sends nothing; a condition bad for two polls fires once and resolves after
 * two good ones, saying for how long; a failing operation's alert carries its
 * log's error; bad credentials name the consumer; a condition still firing is
 * reminded.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from '../../src/simulator/fake-ampersand-server.js';
import { buildInstallation } from '../../src/simulator/fixtures.js';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration(
    'int-1',
    'salesforce',
    [installationSpec('a'), installationSpec('b', { consumerName: 'Ann Lee', consumerRef: 'user-ann' })],
    'Salesforce account sync',
  );
});
afterEach(async () => {
  await h.stop();
});

const version = async (): Promise<number> => Number(await h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v'));
/** Waits until `n` more polls of int-1 are committed. */
async function polls(n: number): Promise<void> {
  const from = await version();
  await waitFor(`${n} more polls`, async () => (await version()) >= from + n);
}
const blocks = (index: number): string => JSON.stringify(h.slack.messages[index]?.body.blocks ?? []);
const firingGauge = async (condition: string): Promise<number | undefined> =>
  sample(await h.metrics(), 'ampersand_alerts_firing', { integration_id: 'int-1', condition });

/** Starts with the defaults and waits for the baseline (which sends nothing: every installation is healthy). */
async function start(extra: Record<string, string> = {}): Promise<void> {
  await h.start({ POLL_INTERVAL_SECONDS: '0.5', UPSTREAM_DEGRADED_AFTER_CYCLES: '1000', ...extra });
  await waitFor('the baseline', async () => (await version()) > 0);
}

describe('alerts, with the default thresholds', () => {
  it('send nothing for a flap: unhealthy for one poll, healthy the next', async () => {
    await start();
    const body = JSON.stringify(h.ampersand.installations('int-1').map((i) => buildInstallation(i.id === 'a' ? { ...i, healthStatus: 'unhealthy' } : i)));
    const from = await version();
    h.ampersand.inject('int-1', { kind: 'raw', contentType: 'application/json', body } satisfies Fault);
    await polls(4);
    expect(h.monitors[0]?.logs.text()).toContain('transition: a health_status healthy → unhealthy');
    expect(await version()).toBeGreaterThanOrEqual(from + 4);
    expect(h.slack.messages).toHaveLength(0);
    expect(await firingGauge('unhealthy')).toBe(0);
  });

  it('fire once after two bad polls, and resolve after two good ones, saying for how long and since when', async () => {
    await start();
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the firing', () => h.slack.messages.length === 1);
    expect(h.texts()[0]).toBe('[FIRING:1] Salesforce account sync (int-1): Salesforce installation unhealthy — Customer a (org-a)');
    expect(blocks(0)).toContain('*1 of 2* unhealthy');
    expect(blocks(0)).toMatch(/since <!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>/);
    expect(await firingGauge('unhealthy')).toBe(1);
    await polls(3);
    expect(h.slack.messages).toHaveLength(1);

    h.ampersand.update('int-1', 'a', { healthStatus: 'healthy' });
    await waitFor('the recovery', () => h.slack.messages.length === 2);
    expect(h.texts()[1]).toBe('[RESOLVED:1] Salesforce account sync (int-1): Salesforce recovered: unhealthy — Customer a (org-a)');
    expect(blocks(1)).toMatch(/Salesforce recovered: unhealthy for \d+ s, since <!date\^/);
    expect(await firingGauge('unhealthy')).toBe(0);
    await polls(3);
    expect(h.slack.messages).toHaveLength(2);
  });

  it("carry a failing operation's error from its log", async () => {
    await start();
    h.ampersand.update('int-1', 'a', { lastOperationStatus: 'failure' });
    await waitFor('the firing', () => h.slack.messages.length === 1);
    const [newest] = h.ampersand.operations('a');
    expect(newest?.status).toBe('failure');
    expect(h.texts()[0]).toBe('[FIRING:1] Salesforce account sync (int-1): Salesforce reads failing — Customer a (org-a)');
    expect(blocks(0)).toContain(`*Why* operation \`${newest?.id}\` (read, <!date^`);
    expect(blocks(0)).toContain('> `Read of account failed: INVALID_SESSION_ID: Session expired or invalid`');
    expect(String(h.slack.messages[0]?.body.text)).not.toContain('INVALID_SESSION_ID');
    expect(h.ampersand.requests.filter((r) => r.path.endsWith('/logs'))).toHaveLength(1);
  });

  it('name the consumer who must reconnect when credentials are rejected', async () => {
    await start();
    h.ampersand.update('int-1', 'b', { connectionStatus: 'bad_credentials' });
    await waitFor('the firing', () => h.slack.messages.length === 1);
    expect(h.texts()[0]).toBe('[FIRING:1] Salesforce account sync (int-1): Salesforce credentials rejected — Customer b (org-b)');
    expect(blocks(0)).toContain('consumer Ann Lee (`user-ann`)');
    expect(blocks(0)).toContain('*What to do* The customer must reconnect: ask Ann Lee to reconnect their Salesforce account in your app.');
    expect(await firingGauge('bad_credentials')).toBe(1);
  });

  it('remind of a condition still firing every REMIND_INTERVAL_SECONDS, in one digest', async () => {
    await start({ REMIND_INTERVAL_SECONDS: '2' });
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    h.ampersand.update('int-1', 'b', { healthStatus: 'unhealthy' });
    await waitFor('the firing', () => h.slack.messages.length === 1);
    await waitFor('a reminder', () => h.slack.messages.length === 2, 10_000);
    expect(h.texts()[1]).toBe(
      '[REMINDER:2] Salesforce account sync (int-1): still: Salesforce installation unhealthy — Customer a (org-a); still: Salesforce installation unhealthy — Customer b (org-b)',
    );
    expect(blocks(1)).toMatch(/Still firing: Salesforce installation unhealthy, for \d+ s, since <!date\^/);
  });
});
