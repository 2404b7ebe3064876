/**
 * Every branch of the delivery job, without Redis: the in-memory stores (the
 * same contract as the Redis adapters), a scripted notifier, a delivery queue
 * that records its kicks, a metrics fake that records outcomes, and a fixed
 * clock. test/e2e/deliver-notification.test.ts runs the retry horizon across
 * replicas on Redis.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeliverNotification, retryAgeMs, type DeliverOutcome } from '../../jobs/deliver-notification.js';
import type { DeliveryQueue, Notifier, Outbox, OutboxEntry, SendResult, SlackOutcome } from '../../src/ports.js';
import { answers, createFakeNotifier, type FakeNotifier } from '../fakes/fake-notifier.js';
import { createInMemoryStores, type InMemoryStores } from '../fakes/in-memory-stores.js';
import { captureLogs } from '../helpers/logger.js';

const HOUR = 3_600_000;
const HORIZON = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);

const upstreamEntry = (id: string, destination = 'slack'): OutboxEntry => ({
  id,
  destination,
  enqueuedAt: T0,
  notification: { kind: 'upstream', projectId: 'p', state: 'down', reason: id, detectedAt: 't' },
});
const installationEntry = (id: string): OutboxEntry => ({
  id,
  destination: 'slack',
  enqueuedAt: T0,
  notification: { kind: 'transitions', projectId: 'p', integrationId: 'int-1', items: [], detectedAt: 't', part: 1, parts: 1 },
});

let stores: InMemoryStores;
let slack: FakeNotifier;
let kicks: string[];
let outcomes: SlackOutcome[];
let nowMs: number;
let logs: ReturnType<typeof captureLogs>;

beforeEach(() => {
  stores = createInMemoryStores();
  slack = createFakeNotifier();
  kicks = [];
  outcomes = [];
  nowMs = T0;
  logs = captureLogs();
});
// Every scripted answer was asked for: a branch that sends less than the test expects fails.
afterEach(() => {
  expect(slack.pending).toBe(0);
});

const delivery: DeliveryQueue = { kick: async (headId, lane) => void kicks.push(lane === undefined ? headId : `${lane}:${headId}`) };

function deliverer(options: { outbox?: Outbox; notifiers?: ReadonlyMap<string, Notifier>; lane?: string } = {}) {
  return createDeliverNotification({
    outbox: options.outbox ?? (options.lane === undefined ? stores.outbox : stores.lane(options.lane)),
    ...(options.lane === undefined ? {} : { lane: options.lane }),
    notifiers: options.notifiers ?? new Map([['slack', slack]]),
    metrics: { recordSlackNotification: (outcome) => void outcomes.push(outcome) },
    logger: logs.logger,
    delivery,
    retryHorizonMs: HORIZON,
    now: () => new Date(nowMs),
  });
}

async function enqueue(...entries: OutboxEntry[]): Promise<void> {
  // The upstream store's commit appends one entry; its state does not matter here.
  for (const entry of entries) {
    const { rev, state } = await stores.upstream.load('proj-1');
    await stores.upstream.commit('proj-1', rev, state, entry);
  }
}

const deliver = (entryId: string): Promise<DeliverOutcome> => deliverer()({ entryId }, 'job-1');
const ids = (entries: readonly OutboxEntry[]): string[] => entries.map((e) => e.id);
const messages = (): string[] => logs.lines().map((l) => String(l['msg']));

describe('deliverNotification', () => {
  describe('when the outbox is empty', () => {
    it('does nothing and sends nothing', async () => {
      expect(await deliver('e1')).toEqual({ status: 'empty' });
      expect(slack.sent).toEqual([]);
      expect(kicks).toEqual([]);
      expect(outcomes).toEqual([]);
    });
  });

  describe('when its entry is no longer the head', () => {
    it('sends nothing and kicks the current head', async () => {
      await enqueue(upstreamEntry('e2'));
      expect(await deliver('e1')).toEqual({ status: 'not_head' });
      expect(slack.sent).toEqual([]);
      expect(kicks).toEqual(['e2']);
    });
  });

  describe('when the notifier sends it', () => {
    it('pops it, kicks the next head, and logs the delivery', async () => {
      await enqueue(installationEntry('e1'), upstreamEntry('e2'));
      slack.answer(answers.sent('the alert'));
      expect(await deliver('e1')).toEqual({ status: 'sent' });
      expect(slack.sent).toEqual([{ notification: installationEntry('e1').notification, ref: 'e1' }]);
      expect(await stores.outbox.headId()).toBe('e2');
      expect(kicks).toEqual(['e2']);
      expect(outcomes).toEqual(['sent']);
      expect(logs.lines()).toEqual([
        expect.objectContaining({
          level: 'info',
          msg: 'notification delivered',
          text: 'the alert',
          jobId: 'job-1',
          notificationId: 'e1',
          integrationId: 'int-1',
        }),
      ]);
      expect((await stores.outbox.channelStatus()).lastSuccessMs).toBe(T0);
    });

    it('kicks nothing when it was the last entry', async () => {
      await enqueue(upstreamEntry('e1'));
      slack.answer(answers.sent());
      expect(await deliver('e1')).toEqual({ status: 'sent' });
      expect(kicks).toEqual([]);
      expect(await stores.outbox.size()).toBe(0);
    });

    it.each<[string, SendResult, SlackOutcome, boolean]>([
      ['as rendered', answers.sent(), 'sent', false],
      ['as plain text after a refused layout', answers.plainText(), 'plain_text', true],
      ['only to the log', answers.logged(), 'logged', false],
    ])('counts a message sent %s', async (_name, result, outcome, plainText) => {
      await enqueue(upstreamEntry('e1'));
      slack.answer(result);
      expect(await deliver('e1')).toEqual({ status: 'sent' });
      expect(outcomes).toEqual([outcome]);
      const delivered = logs.lines().find((l) => l['msg'] === 'notification delivered');
      expect(delivered?.['plainText']).toBe(plainText ? true : undefined);
    });

    it('logs the fallback the notifier reports, with its details, before the delivery', async () => {
      await enqueue(upstreamEntry('e1'));
      slack.answer(answers.plainText());
      await deliver('e1');
      expect(logs.lines()).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: 'Slack refused the message (invalid_blocks); sending it as plain text',
          status: 400,
          slackError: 'invalid_blocks',
          notificationId: 'e1',
        }),
        expect.objectContaining({ level: 'info', msg: 'notification delivered', plainText: true }),
      ]);
    });

    it('marks a channel that was down as recovered, and says so once', async () => {
      await enqueue(upstreamEntry('e1'), upstreamEntry('e2'));
      slack.answer(answers.broken(), answers.sent(), answers.sent());
      expect((await deliver('e1')).status).toBe('paused');
      expect(await deliver('e1')).toEqual({ status: 'sent' });
      expect(await deliver('e2')).toEqual({ status: 'sent' });
      expect((await stores.outbox.channelStatus()).up).toBe(true);
      expect(messages().filter((m) => m.startsWith('the Slack webhook works again'))).toHaveLength(1);
    });
  });

  describe('when the notifier asks for a retry', () => {
    it('keeps the head, counts a retry, and returns the error for the backoff', async () => {
      await enqueue(upstreamEntry('e1'), upstreamEntry('e2'));
      const result = answers.unavailable();
      slack.answer(result);
      nowMs = T0 + 5000;
      const outcome = await deliver('e1');
      expect(outcome).toEqual({ status: 'retry', error: result.status === 'retry' ? result.error : undefined });
      expect(await stores.outbox.headId()).toBe('e1');
      expect(kicks).toEqual([]);
      expect(outcomes).toEqual(['retried']);
      expect(logs.lines()).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: 'Slack delivery failed; will retry with backoff: Slack answered HTTP 503',
          status: 503,
          ageMs: 5000,
          retryAgeMs: 5000,
        }),
      ]);
      expect((await stores.outbox.channelStatus()).up).toBeUndefined();
    });

    it('dead-letters it once the horizon has passed, and kicks the next head', async () => {
      await enqueue(upstreamEntry('e1'), upstreamEntry('e2'));
      slack.answer(answers.unavailable());
      nowMs = T0 + HORIZON + 1;
      const outcome = await deliver('e1');
      expect(outcome.status).toBe('dead');
      expect(outcome.status === 'dead' && outcome.reason).toBe(
        `Slack did not take the message within the retry horizon (${HORIZON} ms), counted while the webhook worked; it is kept in the dead letters: Slack answered HTTP 503`,
      );
      expect(ids(await stores.outbox.deadLetters())).toEqual(['e1']);
      expect(await stores.outbox.headId()).toBe('e2');
      expect(kicks).toEqual(['e2']);
      expect(outcomes).toEqual(['failed']);
      expect(logs.lines()).toEqual([expect.objectContaining({ level: 'error', text: 'text' })]);
    });

    it('still retries at exactly the horizon', async () => {
      await enqueue(upstreamEntry('e1'));
      slack.answer(answers.unavailable());
      nowMs = T0 + HORIZON;
      expect((await deliver('e1')).status).toBe('retry');
    });
  });

  describe('when the channel rate limits', () => {
    it('keeps the head and passes the wait on', async () => {
      await enqueue(upstreamEntry('e1'));
      slack.answer(answers.rateLimited(7000));
      expect(await deliver('e1')).toEqual({ status: 'rate_limited', retryAfterMs: 7000 });
      expect(await stores.outbox.headId()).toBe('e1');
      expect(outcomes).toEqual(['rate_limited']);
      expect(logs.lines()).toEqual([
        expect.objectContaining({ level: 'warn', msg: 'Slack rate limited the webhook; waiting for Retry-After', retryAfterMs: 7000, status: 429 }),
      ]);
    });

    it('does so also past the retry horizon', async () => {
      await enqueue(upstreamEntry('e1'));
      slack.answer(answers.rateLimited(1000));
      nowMs = T0 + 2 * HORIZON;
      expect((await deliver('e1')).status).toBe('rate_limited');
      expect(await stores.outbox.deadLetters()).toEqual([]);
    });
  });

  describe('when the channel rejects the message', () => {
    it('dead-letters it, counts it as rejected, and kicks the next head', async () => {
      await enqueue(upstreamEntry('e1'), upstreamEntry('e2'));
      slack.answer(answers.rejected());
      const outcome = await deliver('e1');
      expect(outcome).toEqual({
        status: 'dead',
        reason: 'Slack rejected the message (invalid_payload), also as plain text; it is kept in the dead letters and not retried.',
      });
      expect(ids(await stores.outbox.deadLetters())).toEqual(['e1']);
      expect(kicks).toEqual(['e2']);
      expect(outcomes).toEqual(['rejected']);
      expect(logs.lines()).toEqual([expect.objectContaining({ level: 'error', slackError: 'invalid_payload', text: 'text' })]);
    });
  });

  describe('when the channel is down', () => {
    it('pauses: keeps the head, marks the channel down once, and logs the change once', async () => {
      await enqueue(upstreamEntry('e1'), upstreamEntry('e2'));
      const first = answers.broken();
      slack.answer(first, answers.broken());
      const outcome = await deliver('e1');
      expect(outcome).toEqual({ status: 'paused', error: first.status === 'retry' ? first.error : undefined });
      nowMs = T0 + 60_000;
      expect((await deliver('e1')).status).toBe('paused');
      expect(await stores.outbox.headId()).toBe('e1');
      expect(await stores.outbox.deadLetters()).toEqual([]);
      expect(kicks).toEqual([]);
      expect(outcomes).toEqual(['paused', 'paused']);
      expect(await stores.outbox.channelStatus()).toMatchObject({ up: false, reason: 'Slack answered HTTP 404 no_service', downSinceMs: T0 });
      expect(logs.lines().map((l) => [l['level'], l['msg']])).toEqual([
        [
          'error',
          'the Slack webhook does not work (Slack answered HTTP 404 no_service): delivery is paused and every alert is kept in order; the oldest is retried with backoff (up to 5 min). Check SLACK_WEBHOOK_URL and the channel.',
        ],
        ['debug', 'the Slack webhook still does not work: Slack answered HTTP 404 no_service'],
      ]);
    });

    it('never dead-letters the head, however long the pause', async () => {
      await enqueue(upstreamEntry('e1'));
      slack.answer(answers.broken());
      nowMs = T0 + 10 * HORIZON;
      expect((await deliver('e1')).status).toBe('paused');
      expect(await stores.outbox.deadLetters()).toEqual([]);
    });
  });

  describe('when the head cannot be delivered by anyone', () => {
    it('dead-letters an unreadable head entry without sending it, and kicks the next head', async () => {
      await enqueue(upstreamEntry('e1'), upstreamEntry('e2'));
      // The store reports an entry it cannot read as `entry: undefined`.
      const unreadable: Outbox = { ...stores.outbox, head: async () => ({ ...(await stores.outbox.head())!, entry: undefined }) };
      const outcome = await deliverer({ outbox: unreadable })({ entryId: 'e1' }, 'job-1');
      expect(outcome).toEqual({
        status: 'dead',
        reason: 'outbox entry e1 is missing or unreadable; moved to the dead letters so the messages behind it go on',
      });
      expect(slack.sent).toEqual([]);
      expect(await stores.outbox.headId()).toBe('e2');
      expect(kicks).toEqual(['e2']);
      expect(outcomes).toEqual(['failed']);
      expect(logs.lines()).toEqual([expect.objectContaining({ level: 'error', notificationId: 'e1', jobId: 'job-1' })]);
    });

    it('dead-letters an entry the notifier cannot render as an unreadable one', async () => {
      await enqueue(upstreamEntry('e1'));
      slack.answer(answers.malformed());
      expect(await deliver('e1')).toEqual({
        status: 'dead',
        reason: 'outbox entry e1 is missing or unreadable; moved to the dead letters so the messages behind it go on',
      });
      expect(ids(await stores.outbox.deadLetters())).toEqual(['e1']);
      expect(outcomes).toEqual(['failed']);
    });

    it("dead-letters an entry of a route's lane for a destination with no notifier, and kicks the lane's next head", async () => {
      await enqueue(upstreamEntry('e1', 'pagerduty'), upstreamEntry('e2', 'pagerduty'));
      const outcome = await deliverer({ lane: 'pagerduty' })({ entryId: 'e1' }, 'job-1');
      expect(outcome).toEqual({
        status: 'dead',
        reason: 'outbox entry e1 is for destination "pagerduty", which has no notifier here; moved to the dead letters so the messages behind it go on',
      });
      expect(slack.sent).toEqual([]);
      expect(ids(await stores.outbox.deadLetters())).toEqual(['e1']);
      expect(kicks).toEqual(['pagerduty:e2']);
      expect(outcomes).toEqual(['failed']);
      expect(logs.lines().find((l) => l['notificationId'] === 'e1')).toMatchObject({ route: 'pagerduty' });
    });
  });

  describe('with several destinations', () => {
    it('sends each entry to the notifier of its destination', async () => {
      const other = createFakeNotifier({ target: 'log' });
      await enqueue(upstreamEntry('e1', 'ops'), upstreamEntry('e2'));
      other.answer(answers.logged());
      slack.answer(answers.sent());
      const notifiers = new Map<string, Notifier>([
        ['slack', slack],
        ['ops', other],
      ]);
      // Each route's lane is delivered by its own job.
      expect((await deliverer({ notifiers, lane: 'ops' })({ entryId: 'e1' }, 'j')).status).toBe('sent');
      expect((await deliverer({ notifiers })({ entryId: 'e2' }, 'j')).status).toBe('sent');
      expect(other.sent.map((s) => s.ref)).toEqual(['e1']);
      expect(slack.sent.map((s) => s.ref)).toEqual(['e2']);
      expect(outcomes).toEqual(['logged', 'sent']);
    });
  });
});

describe('retryAgeMs', () => {
  it('counts from the latest of the commit, the last success and the last channel fault', () => {
    expect(retryAgeMs(100, { lastSuccessMs: undefined, lastFaultMs: undefined }, 1000)).toBe(900);
    expect(retryAgeMs(100, { lastSuccessMs: 400, lastFaultMs: 300 }, 1000)).toBe(600);
    expect(retryAgeMs(100, { lastSuccessMs: 50, lastFaultMs: 700 }, 1000)).toBe(300);
    expect(retryAgeMs(500, { lastSuccessMs: 50, lastFaultMs: 70 }, 1000)).toBe(500);
  });
});
