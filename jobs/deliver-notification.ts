/**
 * Delivers the head of the outbox to Slack, one message per job, so BullMQ's
 * limiter paces messages and the outbox keeps their order: a message that
 * fails blocks the ones behind it until it is sent or given up.
 *
 * The job is named after the entry it was created for. If that entry is no
 * longer the head (already delivered by an earlier run), it only makes sure
 * the current head has a job. The caller turns the returned outcome into
 * BullMQ semantics (retry with backoff, rate limit).
 */
import type { Logger } from 'pino';
import type { Metrics } from '../src/adapters/metrics.js';
import type { SlackNotifier } from '../src/adapters/slack-notifier.js';
import type { StateStore } from '../src/adapters/state-store.js';
import { renderSlackMessage } from '../src/core/slack-message.js';
import { SlackDeliveryError } from '../src/errors/slack-delivery-error.js';

export interface DeliverJobData {
  readonly entryId: string;
}

export type DeliverOutcome =
  | { readonly status: 'sent' | 'not_head' | 'empty' }
  | { readonly status: 'dead'; readonly reason: string }
  | { readonly status: 'rate_limited'; readonly retryAfterMs: number }
  | { readonly status: 'retry'; readonly error: SlackDeliveryError };

export interface DeliverNotificationDeps {
  readonly store: Pick<StateStore, 'outboxHead' | 'popOutbox' | 'outboxSize'>;
  readonly notifier: SlackNotifier;
  readonly metrics: Pick<Metrics, 'slackNotification' | 'outboxSize'>;
  readonly logger: Logger;
  readonly kickDelivery: (headId: string) => Promise<void>;
  /** How long after its commit a message is still retried on 5xx or network errors. */
  readonly retryHorizonMs: number;
  readonly now: () => Date;
}

export function createDeliverNotification(deps: DeliverNotificationDeps) {
  const advance = async (entryId: string, dead: boolean): Promise<void> => {
    const { head } = await deps.store.popOutbox(entryId, dead);
    deps.metrics.outboxSize(await deps.store.outboxSize());
    if (head !== undefined) await deps.kickDelivery(head);
  };

  return async function deliverNotification(data: DeliverJobData, jobId: string | undefined): Promise<DeliverOutcome> {
    const entry = await deps.store.outboxHead();
    if (!entry) return { status: 'empty' };
    if (entry.id !== data.entryId) {
      await deps.kickDelivery(entry.id);
      return { status: 'not_head' };
    }
    const n = entry.notification;
    const log = deps.logger.child({ jobId, notificationId: entry.id, ...(n.kind === 'upstream' ? {} : { integrationId: n.integrationId }) });
    const message = renderSlackMessage(n, entry.id);
    try {
      await deps.notifier.send(message);
    } catch (error) {
      if (!(error instanceof SlackDeliveryError)) throw error;
      const age = deps.now().getTime() - entry.enqueuedAt;
      const fields = { status: error.status, slackError: error.slackError, ageMs: age };
      if (error.kind === 'rate_limited') {
        deps.metrics.slackNotification('rate_limited');
        log.warn({ ...fields, retryAfterMs: error.retryAfterMs }, 'Slack rate limited the webhook; waiting for Retry-After');
        return { status: 'rate_limited', retryAfterMs: error.retryAfterMs ?? 1000 };
      }
      if (error.kind === 'rejected') {
        deps.metrics.slackNotification('rejected');
        const reason = `Slack rejected the message (${error.slackError || `HTTP ${error.status}`}); it is kept in the dead letters and not retried. Check SLACK_WEBHOOK_URL and the channel.`;
        log.error({ ...fields, text: message.text }, reason);
        await advance(entry.id, true);
        return { status: 'dead', reason };
      }
      if (age > deps.retryHorizonMs) {
        deps.metrics.slackNotification('failed');
        const reason = `Slack did not take the message within the retry horizon (${deps.retryHorizonMs} ms); it is kept in the dead letters: ${error.message}`;
        log.error({ ...fields, text: message.text }, reason);
        await advance(entry.id, true);
        return { status: 'dead', reason };
      }
      deps.metrics.slackNotification('retried');
      log.warn(fields, `Slack delivery failed; will retry with backoff: ${error.message}`);
      return { status: 'retry', error };
    }
    // Pop first, log after: between Slack's OK and this pop lies the one window in which a
    // crash re-sends a message (a webhook takes no idempotency key). It is kept this small.
    const accepted = performance.now();
    await advance(entry.id, false);
    const windowMs = Math.round((performance.now() - accepted) * 1000) / 1000;
    deps.metrics.slackNotification(deps.notifier.target === 'log' ? 'logged' : 'sent');
    log.info({ text: message.text, windowMs }, 'notification delivered');
    return { status: 'sent' };
  };
}
