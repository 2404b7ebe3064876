/**
 * A Notifier that answers as scripted, and records what it was sent: the
 * delivery job's tests script a channel's answers as SendResults, as an
 * adapter would return them after a real exchange (the adapters have their
 * own tests against the strict fake servers in src/simulator/).
 */
import type { Notification } from '../../src/core/notification.js';
import { slackWording } from '../../src/adapters/slack-notifier.js';
import type { Notifier, NotifierWording, SendResult } from '../../src/ports.js';

export interface FakeNotifier extends Notifier {
  /** What `send` was given, in order. */
  readonly sent: { readonly notification: Notification; readonly ref: string }[];
  /** Queues the next answers, in order; a send with nothing scripted fails the test. */
  answer(...results: SendResult[]): void;
  /** Answers not used yet. */
  readonly pending: number;
}

export function createFakeNotifier(options: { readonly target?: string; readonly wording?: NotifierWording } = {}): FakeNotifier {
  const sent: { notification: Notification; ref: string }[] = [];
  const script: SendResult[] = [];
  return {
    target: options.target ?? 'https://hooks.slack.test/…',
    wording: options.wording ?? slackWording,
    sent,
    answer: (...results) => void script.push(...results),
    get pending() {
      return script.length;
    },
    async send(notification, ref) {
      sent.push({ notification, ref });
      const result = script.shift();
      if (result === undefined) throw new Error(`the test did not script the send of ${ref}`);
      return result;
    },
  };
}

/** SendResults as the Slack adapter returns them, for scripting. */
export const answers = {
  sent: (text = 'text'): SendResult => ({ status: 'sent', form: 'rendered', text }),
  logged: (text = 'text'): SendResult => ({ status: 'sent', form: 'logged', text }),
  plainText: (text = 'text'): SendResult => ({
    status: 'sent',
    form: 'plain_text',
    text,
    fallback: { message: 'Slack refused the message (invalid_blocks); sending it as plain text', details: { status: 400, slackError: 'invalid_blocks' } },
  }),
  unavailable: (): SendResult => ({ status: 'retry', error: new Error('Slack answered HTTP 503'), details: { status: 503 }, text: 'text' }),
  broken: (): SendResult => ({
    status: 'retry',
    error: new Error('Slack answered HTTP 404 no_service'),
    details: { status: 404, slackError: 'no_service' },
    channelDown: 'Slack answered HTTP 404 no_service',
    text: 'text',
  }),
  rateLimited: (retryAfterMs: number): SendResult => ({ status: 'rate_limited', retryAfterMs, details: { status: 429 }, text: 'text' }),
  rejected: (): SendResult => ({
    status: 'rejected',
    reason: 'Slack rejected the message (invalid_payload), also as plain text',
    details: { status: 400, slackError: 'invalid_payload' },
    text: 'text',
  }),
  malformed: (): SendResult => ({ status: 'rejected', reason: 'the notification cannot be rendered: boom', details: {}, malformed: true, text: '' }),
};
