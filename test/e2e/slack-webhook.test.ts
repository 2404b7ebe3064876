/**
 * A broken webhook is the channel's fault, not one message's: delivery pauses
 * with every alert kept in order, the state is reported once in the logs, in
 * /readyz and in /metrics, and everything is delivered once it works again.
 * A message Slack refuses for its layout is sent again as plain text.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../../src/core/snapshot.js';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { sleep, waitFor } from '../helpers/wait.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  h.ampersand.setIntegration(
    'int-1',
    'salesforce',
    ['a', 'b', 'c'].map((id) => installationSpec(id)),
  );
});
afterEach(async () => {
  await h.stop();
});

const key = (name: string): string => `${h.prefix}:state:${name}`;
/** Each committed change alerts at once, so that three changes make three messages. */
const ONE_POLL = { ALERT_AFTER_POLLS: '1', RESOLVE_AFTER_POLLS: '1' };
const snapVersion = async (): Promise<number> => Number(await h.redis.hget(key('snap:int-1'), 'v'));
/**
 * Changes one installation's health and waits until that change itself is committed. A newer
 * version alone is not enough: a poll that fetched before the update commits an unchanged snapshot,
 * and the change would then share the next message with the one after it.
 */
const commit = async (id: string, healthStatus: 'healthy' | 'unhealthy'): Promise<void> => {
  h.ampersand.update('int-1', id, { healthStatus });
  await waitFor(
    `${id} ${healthStatus} committed`,
    async () => decodeSnapshot((await h.redis.hget(key('snap:int-1'), 'd')) ?? '')?.get(id)?.healthStatus === healthStatus,
  );
};
/**
 * The same three alerts, committed while the webhook is broken. The first is the outbox head and
 * waits as it is; the next two are digests of the same integration waiting behind it, so the
 * outbox merges them into one (coalescing): two entries wait.
 */
const commitThreeAlerts = async (): Promise<void> => {
  await commit('a', 'unhealthy');
  await commit('b', 'unhealthy');
  await commit('a', 'healthy');
};
/** Once the webhook works again, the alerts arrive in commit order (the last two in one merged message) and nothing is left. */
const expectThreeDeliveredInOrder = async (): Promise<void> => {
  h.slack.setStickyFault(undefined);
  await waitFor('every alert', () => h.slack.messages.length === 2, 30_000);
  const [first, merged] = h.texts();
  expect(first).toBe('[FIRING:1] integration int-1: Salesforce installation unhealthy — Customer a (org-a)');
  expect(merged).toContain('Customer b (org-b)');
  expect(merged).toContain('Customer a (org-a)');
  expect(JSON.stringify(h.slack.messages[1]?.body)).toContain('merged from 2 polls');
  await waitFor('an empty outbox', async () => (await h.redis.llen(key('outbox:ids'))) === 0);
};
const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('a broken Slack webhook', () => {
  it('pauses delivery on a revoked webhook, keeps every alert in order, says so once, and delivers all once fixed', async () => {
    const { logs } = await h.start({ ...ONE_POLL, POLL_INTERVAL_SECONDS: '0.3', SLACK_MESSAGES_PER_SECOND: '20', UPSTREAM_DEGRADED_AFTER_CYCLES: '1000' });
    await waitFor('the baseline', async () => (await snapVersion()) > 0);
    // Nothing was posted yet (a healthy baseline sends nothing): the state is unknown, so no series, not a 0.
    const fresh = await h.metrics();
    expect(h.slack.attempts).toHaveLength(0);
    expect(fresh).not.toMatch(/^ampersand_slack_up[ {]/m);
    expect(fresh).not.toMatch(/^ampersand_slack_last_success_timestamp_seconds[ {]/m);
    expect((JSON.parse((await h.get('/readyz')).body) as { slack: { state: string } }).slack.state).toBe('unknown');
    h.slack.setStickyFault({ kind: 'status', status: 404, body: 'no_service' });
    await commitThreeAlerts();
    await waitFor('three refused attempts', () => h.slack.attempts.filter((a) => a.status === 404).length >= 3, 20_000);

    expect(await h.redis.llen(key('outbox:ids'))).toBe(2);
    expect(await h.redis.llen(key('dead:ids'))).toBe(0);
    const down = await h.metrics();
    expect(sample(down, 'ampersand_slack_up', { target: '127.0.0.1' })).toBe(0);
    expect(sample(down, 'ampersand_slack_outbox_messages', {})).toBe(2);
    expect(sample(down, 'ampersand_slack_dead_letter_messages', {})).toBe(0);
    const ready = await h.get('/readyz');
    expect(ready.status).toBe(200);
    const slack = (JSON.parse(ready.body) as { slack: { state: string; reason: string } }).slack;
    expect(slack.state).toBe('configuration_error');
    expect(slack.reason).toContain('no_service');
    expect(count(logs.text(), 'the Slack webhook does not work')).toBe(1);
    expect(logs.lines().find((l) => String(l['msg']).includes('the Slack webhook does not work'))?.['level']).toBe('error');

    await expectThreeDeliveredInOrder();
    const up = await h.metrics();
    expect(sample(up, 'ampersand_slack_up', { target: '127.0.0.1' })).toBe(1);
    expect(sample(up, 'ampersand_slack_last_success_timestamp_seconds', {})).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(count(logs.text(), 'the Slack webhook works again')).toBe(1);
    expect((JSON.parse((await h.get('/readyz')).body) as { slack: { state: string } }).slack.state).toBe('ok');
  }, 60_000);

  it.each([
    [
      'a deleted Mattermost webhook (400 with a JSON error)',
      '{"id":"web.incoming_webhook.invalid.app_error","message":"Invalid webhook.","detailed_error":"","status_code":400}',
      'application/json',
    ],
    ["a proxy's bare 400", '<html><body><h1>400 Bad Request</h1></body></html>', 'text/html'],
  ])(
    'treats %s the same: a refused plain text pauses, nothing is dead-lettered',
    async (_name, body, contentType) => {
      const { logs } = await h.start({ ...ONE_POLL, POLL_INTERVAL_SECONDS: '0.3', SLACK_MESSAGES_PER_SECOND: '20', UPSTREAM_DEGRADED_AFTER_CYCLES: '1000' });
      await waitFor('the baseline', async () => (await snapVersion()) > 0);
      h.slack.setStickyFault({ kind: 'status', status: 400, body, headers: { 'content-type': contentType } });
      await commitThreeAlerts();
      await waitFor('the head refused as blocks and as plain text, twice', () => h.slack.attempts.filter((a) => a.status === 400).length >= 4, 20_000);

      expect(await h.redis.llen(key('outbox:ids'))).toBe(2);
      expect(await h.redis.llen(key('dead:ids'))).toBe(0);
      const down = await h.metrics();
      expect(sample(down, 'ampersand_slack_up', { target: '127.0.0.1' })).toBe(0);
      expect(sample(down, 'ampersand_slack_dead_letter_messages', {})).toBe(0);
      expect(sample(down, 'ampersand_slack_notifications_total', { outcome: 'rejected' })).toBe(0);
      const slack = (JSON.parse((await h.get('/readyz')).body) as { slack: { state: string; reason: string } }).slack;
      expect(slack.state).toBe('configuration_error');
      expect(slack.reason).toContain('plain-text message (HTTP 400)');
      expect(count(logs.text(), 'the Slack webhook does not work')).toBe(1);

      await expectThreeDeliveredInOrder();
      expect(await h.redis.llen(key('dead:ids'))).toBe(0);
      expect((JSON.parse((await h.get('/readyz')).body) as { slack: { state: string } }).slack.state).toBe('ok');
    },
    60_000,
  );

  it('treats a redirecting webhook the same: paused, nothing dead-lettered, not followed', async () => {
    await h.start({ ...ONE_POLL, POLL_INTERVAL_SECONDS: '0.3', SLACK_MESSAGES_PER_SECOND: '20', UPSTREAM_DEGRADED_AFTER_CYCLES: '1000' });
    await waitFor('the baseline', async () => (await snapVersion()) > 0);
    h.slack.setStickyFault({ kind: 'status', status: 302, body: 'Found', headers: { location: 'http://127.0.0.1:9/elsewhere' } });
    await commit('a', 'unhealthy');
    await waitFor('two redirects', () => h.slack.attempts.filter((a) => a.status === 302).length >= 2, 20_000);
    expect(await h.redis.llen(key('outbox:ids'))).toBe(1);
    expect(await h.redis.llen(key('dead:ids'))).toBe(0);
    expect(sample(await h.metrics(), 'ampersand_slack_up', { target: '127.0.0.1' })).toBe(0);
    expect((JSON.parse((await h.get('/readyz')).body) as { slack: { reason: string } }).slack.reason).toContain('redirect');
  }, 30_000);
});

describe('a message Slack refuses', () => {
  it('is sent again as plain text rather than lost', async () => {
    await h.start({ ...ONE_POLL, POLL_INTERVAL_SECONDS: '0.3', SLACK_MESSAGES_PER_SECOND: '20' });
    await waitFor('the baseline', async () => (await snapVersion()) > 0);
    h.slack.inject({ kind: 'status', status: 400, body: 'msg_blocks_too_long' });
    await commit('a', 'unhealthy');
    await waitFor('the message', () => h.slack.messages.length === 1);
    const body = h.slack.messages[0]?.body;
    expect(body?.blocks).toBeUndefined();
    expect(String(body?.text)).toMatch(/^\[FIRING:1\] integration int-1 · Installations of this integration now: 1 of 3 unhealthy\n/);
    expect(String(body?.text)).toContain(':red_circle: Salesforce installation unhealthy, since ');
    expect(String(body?.text)).toContain(' UTC · for *Customer a* (`org-a`) · installation `a` · consumer Jane Smith (`user-a`)');
    expect(String(body?.text)).toMatch(/ref `int-1\.\w+\.2\.1`$/);
    expect(await h.redis.llen(key('dead:ids'))).toBe(0);
    expect(sample(await h.metrics(), 'ampersand_slack_notifications_total', { outcome: 'plain_text' })).toBe(1);
  });

  it('is dead-lettered only if the plain text is refused too, and the dead letters are capped', async () => {
    await h.start({ ...ONE_POLL, POLL_INTERVAL_SECONDS: '0.3', SLACK_MESSAGES_PER_SECOND: '20', SLACK_DEAD_LETTER_MAX: '1' });
    await waitFor('the baseline', async () => (await snapVersion()) > 0);
    // Both forms refused with a code naming the message: the only refusal that dead-letters.
    h.slack.setStickyFault({ kind: 'status', status: 400, body: 'invalid_payload' });
    await commit('a', 'unhealthy');
    await commit('b', 'unhealthy');
    await waitFor('both given up', async () => (await h.redis.llen(key('outbox:ids'))) === 0, 20_000);
    await sleep(200);
    expect(h.slack.attempts.filter((a) => a.status === 400)).toHaveLength(4);
    expect(await h.redis.lrange(key('dead:ids'), 0, -1)).toEqual([expect.stringMatching(/\.3\.1$/)]);
    expect(await h.redis.hlen(key('dead:entries'))).toBe(1);
    expect(sample(await h.metrics(), 'ampersand_slack_dead_letter_messages', {})).toBe(1);
  }, 30_000);
});
