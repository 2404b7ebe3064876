/**
 * Slack outage: Slack answers 5xx for a while, then 429 with Retry-After,
 * then recovers. Every alert arrives once, in commit order, paced at about one
 * message per second, and no request arrives before its Retry-After passed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationSpec } from '../helpers/builders.js';
import { createHarness, sample, type Harness } from '../helpers/harness.js';
import { refOf } from '../helpers/slack.js';
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

const version = (ref: string): number => Number(ref.split('.')[2]);

describe('a Slack outage', () => {
  it('delays alerts but never drops, doubles or reorders them, and honours Retry-After', async () => {
    // Each change alerts on the poll that commits it: six changes are six digests. The first is the
    // outbox head, retried as it is; the five committed behind it while Slack is down are digests of
    // the same integration waiting, which the outbox merges into one (coalescing): two messages,
    // carrying all six events.
    await h.start({
      POLL_INTERVAL_SECONDS: '0.3',
      SLACK_MESSAGES_PER_SECOND: '1',
      UPSTREAM_DEGRADED_AFTER_CYCLES: '1000',
      ALERT_AFTER_POLLS: '1',
      RESOLVE_AFTER_POLLS: '1',
    });
    const snap = async (): Promise<string | null> => h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v');
    await waitFor('the baseline', async () => (await snap()) !== null);

    h.slack.setStickyFault({ kind: 'status', status: 503, body: 'service_unavailable' });
    // The same installation flips back and forth, so order matters.
    const changes: [string, Parameters<typeof installationSpec>[1]][] = [
      ['a', { healthStatus: 'unhealthy' }],
      ['a', { healthStatus: 'healthy' }],
      ['b', { lastOperationStatus: 'failure' }],
      ['a', { healthStatus: 'unhealthy' }],
      ['c', { connectionStatus: 'bad_credentials' }],
      ['b', { lastOperationStatus: 'success' }],
    ];
    for (const [id, change] of changes) {
      const before = Number(await snap());
      h.ampersand.update('int-1', id, change ?? {});
      await waitFor('the commit', async () => Number(await snap()) > before);
    }
    await sleep(4000);
    expect(h.slack.messages).toHaveLength(0);
    const failedAttempts = h.slack.attempts.length;
    expect(failedAttempts).toBeGreaterThanOrEqual(2);

    // Slack comes back rate limiting: three 429s with Retry-After: 2, then OK.
    h.slack.setStickyFault(undefined);
    h.slack.inject(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 429, body: 'rate_limited', headers: { 'retry-after': '2' } })));
    await waitFor('every message', () => h.slack.messages.length >= 2, 60_000);
    await sleep(2000);

    const refs = h.slack.messages.map((m) => refOf(m.body));
    expect(new Set(refs).size).toBe(refs.length);
    expect(refs).toHaveLength(2);
    // Commit order: snapshot versions only increase.
    const versions = refs.map(version);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    const [first, merged] = h.slack.messages;
    expect(String(first?.body.text)).toBe('[FIRING:1] integration int-1: Salesforce installation unhealthy — Customer a (org-a)');
    // Nothing dropped: the five later events, three firings and two recoveries, in the merged one.
    expect(String(merged?.body.text)).toMatch(/^\[FIRING:3, RESOLVED:2\] /);
    const blocks = JSON.stringify(merged?.body.blocks);
    for (const customer of ['Customer a', 'Customer b', 'Customer c']) expect(blocks).toContain(customer);
    expect(blocks).toContain('merged from 5 polls');

    // Retry-After: no request within 2 s of a 429.
    const attempts = h.slack.attempts;
    const gaps: number[] = [];
    for (const [i, attempt] of attempts.entries()) {
      const next = attempts[i + 1];
      if (attempt.status === 429 && next) gaps.push(next.at - attempt.at);
    }
    expect(gaps).toHaveLength(3);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1995);
    // About one message per second.
    const accepted = h.slack.messages.map((m) => m.at);
    const spacing = accepted.slice(1).map((t, i) => t - (accepted[i] ?? 0));
    for (const s of spacing) expect(s).toBeGreaterThanOrEqual(900);

    const metrics = await h.metrics();
    expect(sample(metrics, 'ampersand_slack_notifications_total', { outcome: 'sent' })).toBe(2);
    expect(sample(metrics, 'ampersand_slack_notifications_total', { outcome: 'rate_limited' })).toBe(3);
    expect(sample(metrics, 'ampersand_slack_notifications_total', { outcome: 'retried' })).toBe(failedAttempts);
    console.log(
      `FAULT-FIGURES ${JSON.stringify({ label: 'slack-outage', messages: refs.length, failedAttempts, rateLimited: 3, retryAfterGapsMs: gaps, minSpacingMs: Math.min(...spacing) })}`,
    );
  }, 120_000);

  it('dead-letters a message Slack refuses for good, also as plain text, loudly, and goes on with the next', async () => {
    const { logs } = await h.start({ POLL_INTERVAL_SECONDS: '0.3', SLACK_MESSAGES_PER_SECOND: '20' });
    await waitFor('the baseline', async () => (await h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v')) !== null);
    h.slack.inject({ kind: 'status', status: 400, body: 'invalid_blocks' }, { kind: 'status', status: 400, body: 'invalid_payload' });
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the rejection', () => h.slack.attempts.filter((a) => a.status === 400).length === 2);
    h.ampersand.update('int-1', 'b', { healthStatus: 'unhealthy' });
    await waitFor('the next message', () => h.slack.messages.length === 1);
    expect(String(h.slack.messages[0]?.body.text)).toBe('[FIRING:1] integration int-1: Salesforce installation unhealthy — Customer b (org-b)');
    expect(logs.text()).toContain('Slack rejected the message (invalid_payload), also as plain text');
    expect(await h.redis.llen(`${h.prefix}:state:dead:ids`)).toBe(1);
    const metrics = await h.metrics();
    expect(sample(metrics, 'ampersand_slack_notifications_total', { outcome: 'rejected' })).toBe(1);
    expect(sample(metrics, 'ampersand_slack_dead_letter_messages', {})).toBe(1);
  });

  it('gives a message up after the retry horizon, keeps it, and counts it as failed', async () => {
    const { logs } = await h.start({ POLL_INTERVAL_SECONDS: '0.3', SLACK_MESSAGES_PER_SECOND: '20', SLACK_RETRY_HORIZON_HOURS: '0.001' });
    await waitFor('the baseline', async () => (await h.redis.hget(`${h.prefix}:state:snap:int-1`, 'v')) !== null);
    h.slack.setStickyFault({ kind: 'status', status: 500 });
    h.ampersand.update('int-1', 'a', { healthStatus: 'unhealthy' });
    await waitFor('the give-up', async () => (await h.redis.llen(`${h.prefix}:state:dead:ids`)) === 1, 20_000);
    expect(logs.text()).toContain('Slack did not take the message within the retry horizon (3600 ms)');
    expect(sample(await h.metrics(), 'ampersand_slack_notifications_total', { outcome: 'failed' })).toBe(1);
    const failed = await h.redis.zcard(`${h.prefix}:alerts:failed`);
    expect(failed).toBe(1);
  });
});
