/**
 * Delivers the head of the outbox to its destination's notifier, one message
 * per job, so BullMQ's limiter paces messages and the outbox keeps their
 * order: a message that fails blocks the ones behind it until it is sent or
 * given up.
 *
 * The job is named after the entry it was created for. If that entry is no
 * longer the head (already delivered by an earlier run), it only makes sure
 * the current head has a job. The caller turns the returned outcome into
 * BullMQ semantics (retry with backoff, rate limit).
 *
 * The job is channel-neutral: the notifier renders, falls back (Slack: plain
 * text for a refused layout) and says what the channel answered as a
 * SendResult. A refusal of the message is dead-lettered; a broken channel
 * (a revoked webhook, an archived channel, a redirect, DNS or TLS failure) is
 * the channel's fault, not the message's: delivery pauses with the head kept
 * in place, is retried with backoff, and the state is shared in the store and
 * logged once per change.
 *
 * Each route has its own outbox lane, delivered by its own job with its own
 * pacing and channel state (`lane`), so a revoked webhook pauses only its
 * route. An entry of the default lane whose route has no notifier (the
 * route was removed from the configuration, and its lane moved to the
 * default one at start) is delivered to the default route, with a warning
 * naming the route; in another lane it is dead-lettered, since waiting
 * cannot give it one.
 */
import { DEFAULT_DESTINATION, isDefaultDestination } from '../src/core/outbox-entry.js';
import type { ChannelTimes, DeliveryQueue, Logger, Metrics, Notifier, Outbox } from '../src/ports.js';

export interface DeliverJobData {
  readonly entryId: string;
  /** The route of the outbox lane the entry heads; informational: each lane's queue has its own worker. Absent in jobs of the release before routes. */
  readonly lane?: string;
}

export type DeliverOutcome =
  | { readonly status: 'sent' | 'not_head' | 'empty' }
  | { readonly status: 'dead'; readonly reason: string }
  | { readonly status: 'rate_limited'; readonly retryAfterMs: number }
  | { readonly status: 'retry'; readonly error: Error }
  /** The channel is broken: the head stays, and is retried with backoff. */
  | { readonly status: 'paused'; readonly error: Error };

export interface DeliverNotificationDeps {
  /** The outbox lane this job delivers. */
  readonly outbox: Pick<Outbox, 'head' | 'pop' | 'markChannelDown'>;
  /** The route of that lane, named in the logs and in the hand-off; the default route when absent. */
  readonly lane?: string;
  /** The notifier of each destination an outbox entry can name (`entry.destination`): a route name. */
  readonly notifiers: ReadonlyMap<string, Notifier>;
  readonly metrics: Pick<Metrics, 'recordSlackNotification'>;
  readonly logger: Logger;
  /** Hands the next head on once this one is sent or dead-lettered. */
  readonly delivery: DeliveryQueue;
  /** How long a message is still retried on transient failures while the channel could deliver (see retryAgeMs). */
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
  const lane = deps.lane ?? DEFAULT_DESTINATION;
  const kick = (head: string): Promise<void> => (deps.lane === undefined ? deps.delivery.kick(head) : deps.delivery.kick(head, deps.lane));
  /** The notifier of a destination; the default route's under either of its names. */
  const notifierOf = (destination: string): Notifier | undefined =>
    deps.notifiers.get(destination) ??
    (isDefaultDestination(destination) ? (deps.notifiers.get(DEFAULT_DESTINATION) ?? deps.notifiers.get('slack')) : undefined);
  const routeField = deps.lane === undefined ? {} : { route: lane };

  const advance = async (entryId: string, dead: boolean): Promise<{ popMs: number; recovered: boolean }> => {
    const started = performance.now();
    const { head, recovered } = await deps.outbox.pop(entryId, dead, dead ? undefined : deps.now().getTime());
    const popMs = performance.now() - started;
    if (head !== undefined) await kick(head);
    return { popMs, recovered };
  };

  /** Dead-letters the head, which no delivery attempt can help, so the messages behind it go on. */
  const deadLetterHead = async (headId: string, jobId: string | undefined, reason: string): Promise<DeliverOutcome> => {
    deps.metrics.recordSlackNotification('failed');
    deps.logger.error({ jobId, notificationId: headId, ...routeField }, reason);
    await advance(headId, true);
    return { status: 'dead', reason };
  };

  return async function deliverNotification(data: DeliverJobData, jobId: string | undefined): Promise<DeliverOutcome> {
    const head = await deps.outbox.head();
    if (!head) return { status: 'empty' };
    if (head.id !== data.entryId) {
      await kick(head.id);
      return { status: 'not_head' };
    }
    const entry = head.entry;
    // Waiting cannot make a missing or unreadable entry readable; it would only hold up the rest.
    const unreadable = `outbox entry ${head.id} is missing or unreadable; moved to the dead letters so the messages behind it go on`;
    if (!entry) return deadLetterHead(head.id, jobId, unreadable);
    const own = notifierOf(entry.destination);
    // A route removed from the configuration: its entries were moved to the default lane, and go to the default route.
    const notifier = own ?? (isDefaultDestination(lane) ? notifierOf(lane) : undefined);
    if (notifier === undefined) {
      return deadLetterHead(
        head.id,
        jobId,
        `outbox entry ${head.id} is for destination ${JSON.stringify(entry.destination)}, which has no notifier here; moved to the dead letters so the messages behind it go on`,
      );
    }
    const n = entry.notification;
    const log = deps.logger.child({
      jobId,
      notificationId: entry.id,
      ...routeField,
      ...(n.kind === 'upstream' || n.kind === 'dropped' ? {} : { integrationId: n.integrationId }),
    });
    if (own === undefined) {
      log.warn(
        { destination: entry.destination },
        `outbox entry ${entry.id} is for route ${JSON.stringify(entry.destination)}, which is no longer configured; it is delivered to the default route (SLACK_WEBHOOK_URL) instead`,
      );
    }
    const result = await notifier.send(n, entry.id);
    if (result.status === 'rejected' && result.malformed) return deadLetterHead(head.id, jobId, unreadable);
    if (result.fallback !== undefined) log.warn(result.fallback.details, result.fallback.message);
    const { service, endpoint, fixHint } = notifier.wording;
    if (result.status !== 'sent') {
      const nowMs = deps.now().getTime();
      const age = retryAgeMs(entry.enqueuedAt, head.channel, nowMs);
      const fields = { ...result.details, ageMs: nowMs - entry.enqueuedAt, retryAgeMs: age };
      if (result.status === 'rate_limited') {
        deps.metrics.recordSlackNotification('rate_limited');
        log.warn({ ...fields, retryAfterMs: result.retryAfterMs }, `${service} rate limited the ${endpoint}; waiting for Retry-After`);
        return { status: 'rate_limited', retryAfterMs: result.retryAfterMs };
      }
      if (result.status === 'retry' && result.channelDown !== undefined) {
        const why = result.channelDown;
        deps.metrics.recordSlackNotification('paused');
        // Every replica sees the same state; only the one that changed it logs, once.
        if (await deps.outbox.markChannelDown(why, nowMs)) {
          log.error(
            fields,
            `the ${service} ${endpoint} does not work (${why}): delivery is paused and every alert is kept in order; the oldest is retried with backoff (up to 5 min). ${fixHint}`,
          );
        } else {
          log.debug(fields, `the ${service} ${endpoint} still does not work: ${why}`);
        }
        return { status: 'paused', error: result.error };
      }
      if (result.status === 'rejected') {
        deps.metrics.recordSlackNotification('rejected');
        const reason = `${result.reason}; it is kept in the dead letters and not retried.`;
        log.error({ ...fields, text: result.text }, reason);
        await advance(entry.id, true);
        return { status: 'dead', reason };
      }
      if (age > deps.retryHorizonMs) {
        deps.metrics.recordSlackNotification('failed');
        const reason = `${service} did not take the message within the retry horizon (${deps.retryHorizonMs} ms), counted while the ${endpoint} worked; it is kept in the dead letters: ${result.error.message}`;
        log.error({ ...fields, text: result.text }, reason);
        await advance(entry.id, true);
        return { status: 'dead', reason };
      }
      deps.metrics.recordSlackNotification('retried');
      log.warn(fields, `${service} delivery failed; will retry with backoff: ${result.error.message}`);
      return { status: 'retry', error: result.error };
    }
    // Between the channel's OK and the pop lies the one window in which a crash re-sends a
    // message (a webhook takes no idempotency key); the pop comes first to keep it small.
    const { popMs, recovered } = await advance(entry.id, false);
    const windowMs = Math.round(popMs * 1000) / 1000;
    if (recovered) log.info(`the ${service} ${endpoint} works again; the alerts that waited are delivered in order`);
    const plain = result.form === 'plain_text';
    deps.metrics.recordSlackNotification(result.form === 'logged' ? 'logged' : plain ? 'plain_text' : 'sent');
    log.info({ text: result.text, windowMs, ...(plain ? { plainText: true } : {}) }, 'notification delivered');
    return { status: 'sent' };
  };
}
