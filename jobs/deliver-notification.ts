/**
 * Delivers the head of the outbox to Slack, one message per job, so BullMQ's
 * limiter paces messages and the outbox keeps their order: a message that
 * fails blocks the ones behind it until it is sent or given up.
 *
 * The job is named after the entry it was created for. If that entry is no
 * longer the head (already delivered by an earlier run), it only makes sure
 * the current head has a job. The caller turns the returned outcome into
 * BullMQ semantics (retry with backoff, rate limit).
 *
 * Two kinds of refusal are told apart. Slack refusing this message (its
 * blocks, its size) is retried once as plain text, and dead-lettered only if
 * that is refused too with a code naming the message; a plain text refused
 * otherwise means the webhook is broken (the notifier says which). A broken webhook (revoked, archived channel, redirect,
 * DNS or TLS failure) is the channel's fault, not the message's: delivery
 * pauses with the head kept in place, is retried with backoff, and the state
 * is shared in Redis and logged once per change.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../src/ports.js';
import type { SlackNotifier } from '../src/adapters/slack-notifier.js';
import { plainTextMessage, renderSlackMessage, type SlackMessage } from '../src/core/slack-message.js';
import { SlackDeliveryError } from '../src/core/errors/slack-delivery-error.js';
import type { ChannelTimes, DeliveryQueue, Outbox } from '../src/ports.js';

export interface DeliverJobData {
  readonly entryId: string;
}

export type DeliverOutcome =
  | { readonly status: 'sent' | 'not_head' | 'empty' }
  | { readonly status: 'dead'; readonly reason: string }
  | { readonly status: 'rate_limited'; readonly retryAfterMs: number }
  | { readonly status: 'retry'; readonly error: SlackDeliveryError }
  /** The webhook is broken: the head stays, and is retried with backoff. */
  | { readonly status: 'paused'; readonly error: SlackDeliveryError };

export interface DeliverNotificationDeps {
  readonly outbox: Pick<Outbox, 'head' | 'pop' | 'markChannelDown'>;
  readonly notifier: SlackNotifier;
  readonly metrics: Pick<Metrics, 'recordSlackNotification'>;
  readonly logger: Logger;
  /** Hands the next head on once this one is sent or dead-lettered. */
  readonly delivery: DeliveryQueue;
  /** How long a message is still retried on 5xx or network errors while the channel could deliver (see retryAgeMs). */
  readonly retryHorizonMs: number;
  readonly now: () => Date;
}

/**
 * How long the head has been failing while the channel could deliver: the time
 * since its commit, its turn (the last message Slack accepted) or the last time
 * the webhook was found broken, whichever is latest. A pause therefore does not
 * use up the horizon of the messages that waited it out, while a head that keeps
 * failing on a working channel still reaches it. The times are shared in Redis,
 * so every replica counts alike.
 */
export function retryAgeMs(enqueuedAt: number, channel: ChannelTimes, nowMs: number): number {
  return nowMs - Math.max(enqueuedAt, channel.lastSuccessMs ?? 0, channel.lastFaultMs ?? 0);
}

export function createDeliverNotification(deps: DeliverNotificationDeps) {
  const advance = async (entryId: string, dead: boolean): Promise<{ popMs: number; recovered: boolean }> => {
    const started = performance.now();
    const { head, recovered } = await deps.outbox.pop(entryId, dead, dead ? undefined : deps.now().getTime());
    const popMs = performance.now() - started;
    if (head !== undefined) await deps.delivery.kick(head);
    return { popMs, recovered };
  };

  return async function deliverNotification(data: DeliverJobData, jobId: string | undefined): Promise<DeliverOutcome> {
    const head = await deps.outbox.head();
    if (!head) return { status: 'empty' };
    if (head.id !== data.entryId) {
      await deps.delivery.kick(head.id);
      return { status: 'not_head' };
    }
    const entry = head.entry;
    let message: SlackMessage | undefined;
    try {
      message = entry && renderSlackMessage(entry.notification, entry.id);
    } catch {
      message = undefined;
    }
    if (!entry || !message) {
      // Waiting cannot make a missing or unreadable entry readable; it would only hold up the rest.
      const reason = `outbox entry ${head.id} is missing or unreadable; moved to the dead letters so the messages behind it go on`;
      deps.metrics.recordSlackNotification('failed');
      deps.logger.error({ jobId, notificationId: head.id }, reason);
      await advance(head.id, true);
      return { status: 'dead', reason };
    }
    const n = entry.notification;
    const log = deps.logger.child({ jobId, notificationId: entry.id, ...(n.kind === 'upstream' ? {} : { integrationId: n.integrationId }) });
    let failure: SlackDeliveryError | undefined;
    let plain = false;
    try {
      await deps.notifier.send(message);
    } catch (error) {
      if (!(error instanceof SlackDeliveryError)) throw error;
      failure = error;
    }
    if (failure?.kind === 'rejected') {
      // Slack refused this message's layout or size; the same alert as plain text gets through.
      log.warn({ status: failure.status, slackError: failure.slackError }, `Slack refused the message (${failure.slackError ?? `HTTP ${failure.status}`}); sending it as plain text`);
      try {
        await deps.notifier.send(plainTextMessage(message));
        failure = undefined;
        plain = true;
      } catch (error) {
        if (!(error instanceof SlackDeliveryError)) throw error;
        failure = error;
      }
    }
    if (failure !== undefined) {
      const error = failure;
      const nowMs = deps.now().getTime();
      const age = retryAgeMs(entry.enqueuedAt, head.channel, nowMs);
      const fields = { status: error.status, slackError: error.slackError, ageMs: nowMs - entry.enqueuedAt, retryAgeMs: age };
      if (error.kind === 'rate_limited') {
        deps.metrics.recordSlackNotification('rate_limited');
        log.warn({ ...fields, retryAfterMs: error.retryAfterMs }, 'Slack rate limited the webhook; waiting for Retry-After');
        return { status: 'rate_limited', retryAfterMs: error.retryAfterMs ?? 1000 };
      }
      if (error.kind === 'channel') {
        deps.metrics.recordSlackNotification('paused');
        // Every replica sees the same state; only the one that changed it logs, once.
        if (await deps.outbox.markChannelDown(error.message, nowMs)) {
          log.error(fields, `the Slack webhook does not work (${error.message}): delivery is paused and every alert is kept in order; the oldest is retried with backoff (up to 5 min). Check SLACK_WEBHOOK_URL and the channel.`);
        } else {
          log.debug(fields, `the Slack webhook still does not work: ${error.message}`);
        }
        return { status: 'paused', error };
      }
      if (error.kind === 'rejected') {
        deps.metrics.recordSlackNotification('rejected');
        const reason = `Slack rejected the message (${error.slackError || `HTTP ${error.status}`}), also as plain text; it is kept in the dead letters and not retried.`;
        log.error({ ...fields, text: message.text }, reason);
        await advance(entry.id, true);
        return { status: 'dead', reason };
      }
      if (age > deps.retryHorizonMs) {
        deps.metrics.recordSlackNotification('failed');
        const reason = `Slack did not take the message within the retry horizon (${deps.retryHorizonMs} ms), counted while the webhook worked; it is kept in the dead letters: ${error.message}`;
        log.error({ ...fields, text: message.text }, reason);
        await advance(entry.id, true);
        return { status: 'dead', reason };
      }
      deps.metrics.recordSlackNotification('retried');
      log.warn(fields, `Slack delivery failed; will retry with backoff: ${error.message}`);
      return { status: 'retry', error };
    }
    // Between Slack's OK and the pop lies the one window in which a crash re-sends a
    // message (a webhook takes no idempotency key); the pop comes first to keep it small.
    const { popMs, recovered } = await advance(entry.id, false);
    const windowMs = Math.round(popMs * 1000) / 1000;
    if (recovered) log.info('the Slack webhook works again; the alerts that waited are delivered in order');
    deps.metrics.recordSlackNotification(deps.notifier.target === 'log' ? 'logged' : plain ? 'plain_text' : 'sent');
    log.info({ text: message.text, windowMs, ...(plain ? { plainText: true } : {}) }, 'notification delivered');
    return { status: 'sent' };
  };
}
